"""`liquid-control tasks`: the installed tasks and where each comes from.

    liquid-control tasks              one line per task: name, package, sizes, expert, models
    liquid-control tasks cartpole     one task in full: names, limits, physics, ROS side, files
"""
from __future__ import annotations

import sys

HELP = 'list the installed tasks (built-in and from task packages), or show one in full'


def add_arguments(parser):
    parser.add_argument('name', nargs='?', help='show this task in full')


def _models(name):
    """The models named <task>_<arch>: a prefix alone would also give a task the models of
    its variants (<task>_<variant>_<arch>)."""
    from liquid_control.runtime import available_models
    from liquid_control.runtime.contract import ARCHS
    return [m for m in available_models() if m.startswith(f'{name}_')
            and m[len(name) + 1:] in ARCHS]


def _count(n, noun):
    return f'{n} {noun}' + ('' if n == 1 else 's')


def _list():
    from importlib.metadata import entry_points

    from liquid_control.runtime.model_paths import MODELS_GROUP
    from liquid_control.tasks import installed

    entries = installed()
    if not entries:
        print('no tasks are installed')
        return 1
    failed = 0
    for name, entry in entries.items():
        try:
            task = entry.load()
        except ValueError as exc:
            print(f'{name:12s} {entry.distribution}: BROKEN: {exc}')
            failed += 1
            continue
        models = _models(name)
        print(f'{name:12s} {entry.distribution} ({entry.value}): {task.description}')
        print(f'{"":12s} {_count(task.n_obs, "observation")}, {_count(task.n_act, "action")} '
              f'at {1.0 / task.nominal_dt:g} Hz; expert: {"yes" if task.has_expert else "no"}; '
              f'models: {", ".join(models) or "none"}')
    for ep in entry_points(group=MODELS_GROUP):
        try:
            ep.load()
        except Exception as exc:   # reported here: the model lookup skips it silently
            print(f'model folder {ep.name} ({ep.value}): BROKEN: {type(exc).__name__}: {exc}')
            failed += 1
    return 1 if failed else 0


def _unobserved(task):
    hidden = list(task.unobserved)
    if task.full_task is not None:
        hidden += [n for n in task.full_task.obs_names if n not in task.obs_names]
    return ', '.join(hidden) + ' (inferred from the history)' if hidden else 'nothing'


def _show(name):
    from liquid_control.tasks import get_task

    task = get_task(name)
    io = task.sim_io
    rows = [
        ('description', task.description),
        ('MJCF', str(task.mjcf)),
        ('observations', ', '.join(
            f'{n} (angle)' if n in task.angle_obs else n for n in task.obs_names)),
        ('not observed', _unobserved(task)),
        ('actions', ', '.join(f'{n} [{lo:g}, {hi:g}]' for n, lo, hi in zip(
            task.action_names, task.action_low, task.action_high))),
        ('control rate', f'{1.0 / task.nominal_dt:g} Hz (nominal dt {task.nominal_dt:g} s)'),
        ('episode', f'up to {task.episode_seconds:g} s'),
        ('success', task.success_rule or '(not stated)'),
        ('tracking error', task.tracking_error or '(not stated)'),
        ('expert', str(task.expert) if task.has_expert else 'none (train from recordings)'),
        ('physics changes', ', '.join(
            f'{k} ({c.label})' for k, c in task.physics.items()) or 'none'),
        ('simulator publishes', ', '.join(
            f'{o.topic} ({o.msg_type})' for o in io.outputs)),
        ('simulator takes', f'{io.command.topic} ({io.command.msg_type})'),
        ('controller params', str(task.params_file) if task.params_file else 'none'),
        ('Gazebo world', str(task.gazebo.world) if task.gazebo else 'none'),
        ('models', ', '.join(_models(task.name)) or 'none'),
    ]
    for label, value in rows:
        print(f'{label + ":":21s}{value}')
    return 0


def run(args):
    from liquid_control.tasks import UnknownTaskError
    try:
        return _show(args.name) if args.name else _list()
    except (UnknownTaskError, ValueError) as exc:
        print(f'liquid-control tasks: {exc}', file=sys.stderr)
        return 2
