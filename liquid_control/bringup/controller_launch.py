"""Launch argument -> controller node resolution, for launch/controller.launch.py (and the YAML
launch file, which includes it). The launch files stay thin: everything they decide is here,
plain Python that the tests exercise without the launch system.

    task        any installed task: its controller parameters file and its model names
    controller  an arch this project trains: the model <task>_<controller> (cfc, ltc, ncp and
                gru are shipped; mlp, mlp_stack and lstm once trained into a models folder)
    model       a model name or path that overrides task + controller
    params_file a parameters file that replaces the task's
    use_sim_time, namespace, autostart, log_level

The node gets `parameters=[params_file, overrides]` (launch_ros passes the file to rcl, which
applies its `liquid_controller` entries and wildcards), with `model`, `use_sim_time` and
`autostart` set from the arguments. The file and the model are checked here first, so a
mistake fails at launch with the reason instead of in the node.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from liquid_control.control.params import ConfigError, read_params_file
from liquid_control.runtime import ModelContractError, available_models, resolve_model
from liquid_control.runtime.contract import ARCHS
from liquid_control.runtime.model_paths import is_path_like
from liquid_control.share import PACKAGE
from liquid_control.tasks import DEFAULT_TASK, Task, get_task, task_names

NODE_NAME = 'liquid_controller'
EXECUTABLE = 'controller_node'
TRUE = ('true', '1', 'yes', 'on')
FALSE = ('false', '0', 'no', 'off')
LOG_LEVELS = ('debug', 'info', 'warn', 'error', 'fatal')


class LaunchArgumentError(ValueError):
    """A launch argument that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class LaunchArgument:
    name: str
    default: str
    description: str
    choices: tuple = ()


LAUNCH_ARGUMENTS = (
    LaunchArgument('task', DEFAULT_TASK, "Task: selects its controller parameters file and the "
                   'shipped model names (`liquid-control tasks` lists the installed ones).'),
    LaunchArgument('controller', 'cfc', 'Controller architecture: the model '
                   '<task>_<controller> (cfc, ltc, ncp and gru are shipped).', ARCHS),
    LaunchArgument('model', '', 'Model name or .onnx path; overrides task + controller.'),
    LaunchArgument('params_file', '', "Parameters file for liquid_controller; default the "
                   "task's (share/liquid_control/config/<task>.yaml for the built-in ones)."),
    LaunchArgument('use_sim_time', 'false', 'Follow /clock (simulation).', ('true', 'false')),
    LaunchArgument('namespace', '', 'Namespace of the node and of its relative topics.'),
    LaunchArgument('autostart', 'true', 'Walk the lifecycle to active at start-up.',
                   ('true', 'false')),
    LaunchArgument('log_level', 'info', 'Log level of the node.', LOG_LEVELS),
)


@dataclass(frozen=True)
class ControllerLaunch:
    """What the launch file starts: arguments of launch_ros.actions.LifecycleNode."""

    model: str
    params_file: Path
    overrides: dict = field(default_factory=dict)
    namespace: str = ''
    log_level: str = 'info'

    def node_kwargs(self):
        return dict(package=PACKAGE, executable=EXECUTABLE, name=NODE_NAME,
                    namespace=self.namespace,
                    parameters=[str(self.params_file), self.overrides], output='screen',
                    emulate_tty=True, arguments=['--ros-args', '--log-level', self.log_level])


def parse_bool(name, value):
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise LaunchArgumentError(f'{name}:={value} is not a boolean (true or false)')


def resolve_task(name):
    """The installed task `name` (a Task passes through); LaunchArgumentError lists the
    installed ones."""
    if isinstance(name, Task):
        return name
    name = str(name).strip()
    names = task_names()
    if name not in names:
        raise LaunchArgumentError(f'task:={name} is not an installed task; installed: '
                                  f'{", ".join(names) or "none"}')
    return get_task(name)


def default_params_file(task):
    task = resolve_task(task)
    if task.params_file is None:
        raise LaunchArgumentError(f'task:={task.name} ships no controller parameters file: '
                                  'give params_file:=')
    return Path(task.params_file)


def model_spec(task, controller, model=''):
    """The model the arguments select: `model` if given, else `<task>_<controller>`."""
    model = str(model).strip()
    if model:
        return model
    if controller not in ARCHS:
        raise LaunchArgumentError(f'controller:={controller} is not one of '
                                  f'{", ".join(ARCHS)}')
    return f'{task}_{controller}'


def check_model(spec):
    """Fail at launch, with what is available, rather than in the node: the same lookup the
    node does. Paths become absolute (the node may start in another directory)."""
    try:
        path = resolve_model(spec)
    except ModelContractError as exc:
        names = available_models()
        hint = (f'available models: {", ".join(names)}' if names
                else 'no models are installed (make models, or pass model:=<path>)')
        raise LaunchArgumentError(f'{exc}; {hint}') from None
    return str(path.resolve()) if is_path_like(spec) else spec


def resolve(task=DEFAULT_TASK, controller='cfc', model='', params_file='',
            use_sim_time='false', namespace='', autostart='true', log_level='info',
            check=True):
    """Launch arguments (strings, as launch gives them) -> ControllerLaunch.

    Raises LaunchArgumentError with a message naming the argument.
    """
    task = resolve_task(task)
    spec = model_spec(task.name, str(controller).strip(), model)
    if check:
        spec = check_model(spec)
    params_path = Path(params_file) if str(params_file).strip() else default_params_file(task)
    log_level = str(log_level).strip().lower()
    if log_level not in LOG_LEVELS:
        raise LaunchArgumentError(f'log_level:={log_level} is not one of '
                                  f'{", ".join(LOG_LEVELS)}')
    namespace = str(namespace).strip()
    try:
        read_params_file(params_path, NODE_NAME, namespace)
    except ConfigError as exc:
        raise LaunchArgumentError(f'params_file:={params_path}: {exc}') from None
    overrides = {'model': spec, 'use_sim_time': parse_bool('use_sim_time', use_sim_time),
                 'autostart': parse_bool('autostart', autostart)}
    return ControllerLaunch(model=spec, params_file=params_path.resolve(), overrides=overrides,
                            namespace=namespace, log_level=log_level)


def resolve_from_context(context):
    """resolve() with the values of the LAUNCH_ARGUMENTS in a launch context."""
    values = {arg.name: context.launch_configurations.get(arg.name, arg.default)
              for arg in LAUNCH_ARGUMENTS}
    return resolve(**values)
