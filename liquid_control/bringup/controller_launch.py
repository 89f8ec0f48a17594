"""Launch argument -> controller node resolution, for launch/controller.launch.py (and the YAML
launch file, which includes it). The launch files stay thin: everything they decide is here,
plain Python that the tests exercise without the launch system.

    task        cartpole | diffdrive: the parameters file config/<task>.yaml and model names
    controller  cfc | ltc | ncp | gru: the shipped model <task>_<controller>
    model       a model name or path that overrides task + controller
    params_file a parameters file that replaces config/<task>.yaml
    use_sim_time, namespace, autostart, log_level

The node's parameters are read from the file (entries for `liquid_controller`, in whatever
namespace the node is launched, and `/**` wildcards, merged as rcl would) and handed to
launch_ros as one dict, with `model`, `use_sim_time` and `autostart` set from the arguments.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from liquid_control.runtime import ModelContractError, available_models, resolve_model
from liquid_control.runtime.contract import ARCHS
from liquid_control.runtime.model_paths import PACKAGE, is_path_like
from liquid_control.tasks.spec import TASKS

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
    LaunchArgument('task', 'cartpole', 'Task: selects config/<task>.yaml and the shipped '
                   'model names.', tuple(TASKS)),
    LaunchArgument('controller', 'cfc', 'Controller architecture: the shipped model '
                   '<task>_<controller>.', ARCHS),
    LaunchArgument('model', '', 'Model name or .onnx path; overrides task + controller.'),
    LaunchArgument('params_file', '', 'Parameters file for liquid_controller; default '
                   'share/liquid_control/config/<task>.yaml.'),
    LaunchArgument('use_sim_time', 'false', 'Follow /clock (simulation).', ('true', 'false')),
    LaunchArgument('namespace', '', 'Namespace of the node and of its relative topics.'),
    LaunchArgument('autostart', 'true', 'Walk the lifecycle to active at start-up.',
                   ('true', 'false')),
    LaunchArgument('log_level', 'info', 'Log level of the node.', LOG_LEVELS),
)


@dataclass(frozen=True)
class ControllerLaunch:
    """What the launch file starts: arguments of launch_ros.actions.Node."""

    model: str
    params_file: Path
    parameters: dict = field(default_factory=dict)
    namespace: str = ''
    log_level: str = 'info'

    def node_kwargs(self):
        return dict(package=PACKAGE, executable=EXECUTABLE, name=NODE_NAME,
                    namespace=self.namespace, parameters=[self.parameters], output='screen',
                    emulate_tty=True, arguments=['--ros-args', '--log-level', self.log_level])


def parse_bool(name, value):
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise LaunchArgumentError(f'{name}:={value} is not a boolean (true or false)')


def share_dir():
    """share/liquid_control of the ROS install, or the source tree when not installed."""
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory(PACKAGE))
    except Exception:  # not installed (PackageNotFoundError), or no ament_index at all
        return Path(__file__).resolve().parents[2]


def default_params_file(task, share=None):
    return Path(share or share_dir()) / 'config' / f'{task}.yaml'


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


def _matching_keys(node_name, namespace):
    ns = '/' + namespace.strip('/') if namespace.strip('/') else ''
    # Broadest first, so the most specific entry wins when merged in this order.
    return ['/**', '/**/' + node_name, node_name, '/' + node_name, f'{ns}/{node_name}']


def flatten(params, prefix=''):
    """Nested parameter dicts -> dotted names, as rcl reads a parameters file."""
    out = {}
    for key, value in params.items():
        if isinstance(value, dict):
            out.update(flatten(value, f'{prefix}{key}.'))
        else:
            out[prefix + str(key)] = value
    return out


def node_parameters(params_file, node_name=NODE_NAME, namespace=''):
    """The parameters a params file gives `node_name` launched in `namespace`, flattened."""
    import yaml
    path = Path(params_file)
    if not path.is_file():
        raise LaunchArgumentError(f'params_file:={params_file}: no such file')
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise LaunchArgumentError(f'params_file:={params_file} is not valid YAML: {exc}') \
            from None
    if not isinstance(doc, dict):
        raise LaunchArgumentError(f'params_file:={params_file}: expected a mapping of node '
                                  f'names to ros__parameters')
    merged = {}
    found = False
    for key in dict.fromkeys(_matching_keys(node_name, namespace)):
        entry = doc.get(key)
        if isinstance(entry, dict) and isinstance(entry.get('ros__parameters'), dict):
            merged.update(flatten(entry['ros__parameters']))
            found = True
    if not found:
        raise LaunchArgumentError(
            f'params_file:={params_file} has no ros__parameters for {node_name} (keys: '
            f'{", ".join(map(str, doc)) or "none"})')
    return merged


def resolve(task='cartpole', controller='cfc', model='', params_file='', use_sim_time='false',
            namespace='', autostart='true', log_level='info', check=True):
    """Launch arguments (strings, as launch gives them) -> ControllerLaunch.

    Raises LaunchArgumentError with a message naming the argument.
    """
    task = str(task).strip()
    if task not in TASKS:
        raise LaunchArgumentError(f'task:={task} is not one of {", ".join(TASKS)}')
    controller = str(controller).strip()
    spec = model_spec(task, controller, model)
    if check:
        spec = check_model(spec)
    params_path = Path(params_file) if str(params_file).strip() else default_params_file(task)
    log_level = str(log_level).strip().lower()
    if log_level not in LOG_LEVELS:
        raise LaunchArgumentError(f'log_level:={log_level} is not one of '
                                  f'{", ".join(LOG_LEVELS)}')
    namespace = str(namespace).strip()
    parameters = node_parameters(params_path, NODE_NAME, namespace)
    parameters.update(model=spec, use_sim_time=parse_bool('use_sim_time', use_sim_time),
                      autostart=parse_bool('autostart', autostart))
    return ControllerLaunch(model=spec, params_file=params_path, parameters=parameters,
                            namespace=namespace, log_level=log_level)


def resolve_from_context(context):
    """resolve() with the values of the LAUNCH_ARGUMENTS in a launch context."""
    values = {arg.name: context.launch_configurations.get(arg.name, arg.default)
              for arg in LAUNCH_ARGUMENTS}
    return resolve(**values)
