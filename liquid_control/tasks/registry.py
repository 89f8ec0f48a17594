"""The installed tasks: Task objects registered under the entry point group
`liquid_control.tasks` by any installed distribution, liquid_control's own included.

    [project.entry-points."liquid_control.tasks"]     # pyproject.toml of a task package
    my_robot = "my_robot_task:TASK"

Entry points are read from the installed distributions' metadata, so a task appears as soon
as its package is installed (`pip install -e my_task`, or a colcon build) and nothing under
liquid_control changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

from .task import Task

GROUP = 'liquid_control.tasks'


class UnknownTaskError(ValueError):
    """A task name no installed package provides; the message lists the installed ones."""


class TaskLoadError(ValueError):
    """A registered task that cannot be loaded; the message names its package and why."""


@dataclass(frozen=True)
class TaskEntry:
    """One registered task, before it is loaded."""

    name: str
    value: str              # 'module:attribute'
    distribution: str       # 'name version' of the package that registers it

    def load(self):
        try:
            task = _entry_point(self).load()
        except Exception as exc:
            raise TaskLoadError(f'task {self.name!r} ({self.value}, from {self.distribution}) '
                                f'does not load: {type(exc).__name__}: {exc}') from exc
        if not isinstance(task, Task):
            raise TaskLoadError(f'task {self.name!r} ({self.value}, from {self.distribution}) '
                                f'is a {type(task).__name__}, not a liquid_control Task')
        if task.name != self.name:
            raise TaskLoadError(f'entry point {self.name!r} ({self.value}, from '
                                f'{self.distribution}) holds a task named {task.name!r}')
        return task


def _entry_point(entry):
    for ep in entry_points(group=GROUP):
        if ep.name == entry.name and ep.value == entry.value:
            return ep
    raise LookupError(f'entry point {entry.name} is no longer installed')


def _distribution(ep):
    dist = getattr(ep, 'dist', None)
    return f'{dist.name} {dist.version}' if dist is not None else 'an unknown distribution'


def installed():
    """{name: TaskEntry} of every registered task, by name. A name registered by two
    packages is an error naming both."""
    found = {}
    for ep in entry_points(group=GROUP):
        entry = TaskEntry(ep.name, ep.value, _distribution(ep))
        previous = found.get(ep.name)
        if previous is not None and previous.value != entry.value:
            raise TaskLoadError(f'task {ep.name!r} is registered twice: {previous.value} '
                                f'({previous.distribution}) and {entry.value} '
                                f'({entry.distribution})')
        found[ep.name] = entry
    return dict(sorted(found.items()))


def task_names():
    """Names of the installed tasks, sorted."""
    return tuple(installed())


_loaded = {}


def get_task(task):
    """The installed Task named `task` (a Task passes through). UnknownTaskError lists the
    installed tasks; TaskLoadError says why a registered one does not load."""
    if isinstance(task, Task):
        return task
    name = str(task).strip()
    entries = installed()
    entry = entries.get(name)
    if entry is None:
        raise UnknownTaskError(
            f'unknown task {name!r}; installed tasks: {", ".join(entries) or "none"} '
            '(`liquid-control tasks` lists them with their packages)')
    cached = _loaded.get(entry)
    if cached is None:
        cached = _loaded[entry] = entry.load()
    return cached
