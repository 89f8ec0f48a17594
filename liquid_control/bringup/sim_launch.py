"""What a simulation run starts, as plain data: used by `liquid-control demo`, the closed-loop
tests and launch/sim.launch.py and launch/gazebo.launch.py, so the launch files stay thin
wrappers of tested code. Any installed task works; what is task-specific comes from its Task.

No ROS import: functions return parameter dicts and launch_ros keyword arguments.
"""
from __future__ import annotations

import math
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from liquid_control.runtime.contract import ARCHS
from liquid_control.share import PACKAGE, share_file
from liquid_control.tasks import DEFAULT_TASK, get_task

from .controller_launch import LAUNCH_ARGUMENTS, LaunchArgument, LaunchArgumentError, resolve_task

CONTROLLERS = ARCHS   # as launch/controller.launch.py takes
EXPERT = 'expert'
MODES = ('realtime', 'fast', 'lockstep')
# Sensors per second in realtime mode when the controller runs on the wall clock: well above
# the control rate, so the newest sample a tick reads is at most a few ms old (as with a
# joint_state_broadcaster at a high rate on a robot).
WALL_CLOCK_SENSOR_RATE_HZ = 100.0


def controller_params_file(task):
    """The controller's parameters file for the task."""
    task = get_task(task)
    if task.params_file is None:
        raise ValueError(f'task {task.name!r} ships no controller parameters file')
    return Path(task.params_file)


def model_spec(task, controller, model=''):
    """The `model` parameter: an explicit path wins, else the shipped `<task>_<controller>`."""
    if model:
        return str(model)
    if controller not in CONTROLLERS:
        raise ValueError(f'controller must be one of {", ".join(CONTROLLERS)} (or give a '
                         f'model path); got {controller!r}')
    return f'{get_task(task).name}_{controller}'


def control_rate_hz(task):
    return 1.0 / get_task(task).nominal_dt


def sim_parameters(task, mode='realtime', controller_clock='sim', seed=0, duration=0.0,
                   publish_rate_hz=None, **extra):
    """Parameters of sim_node for a run.

    With a controller on sim time the sensors and /clock come once per control period (in
    lockstep that is required: one tick answers one publication); with a controller on the
    wall clock (realtime only) they come faster, see WALL_CLOCK_SENSOR_RATE_HZ.
    `extra` passes further sim_node parameters through (noise, latency, drops,
    physics.<name>).
    """
    task = get_task(task)
    if mode not in MODES:
        raise ValueError(f'mode must be one of {", ".join(MODES)}; got {mode!r}')
    if controller_clock not in ('sim', 'wall'):
        raise ValueError(f"controller_clock must be 'sim' or 'wall'; got {controller_clock!r}")
    if controller_clock == 'wall' and mode != 'realtime':
        raise ValueError(f'a controller on the wall clock needs the realtime mode, not {mode}')
    if publish_rate_hz is None:
        publish_rate_hz = (WALL_CLOCK_SENSOR_RATE_HZ if controller_clock == 'wall'
                           else control_rate_hz(task))
    params = {'task': task.name, 'mode': mode, 'seed': int(seed),
              'publish_rate_hz': float(publish_rate_hz), 'run_duration_s': float(duration)}
    for key, value in extra.items():
        if value is None:
            continue
        params[key] = float(value) if isinstance(value, int) and not isinstance(value, bool) \
            else value
    return params


def controller_parameters(task, controller='cfc', model='', use_sim_time=True):
    """Overrides on top of the task's parameters file for controller_node in a run."""
    return {'model': model_spec(task, controller, model),
            'control_rate_hz': control_rate_hz(task), 'use_sim_time': bool(use_sim_time)}


def expert_parameters(task, use_sim_time=True):
    return {'task': get_task(task).name, 'control_rate_hz': control_rate_hz(task),
            'use_sim_time': bool(use_sim_time)}


# -- launch files --------------------------------------------------------------------------
# launch/sim.launch.py and launch/gazebo.launch.py only declare these arguments and start
# what the resolve_* functions return.

def _controller_argument_subset(names):
    return tuple(a for a in LAUNCH_ARGUMENTS if a.name in names)


_CONTROLLER_ARGUMENTS = _controller_argument_subset(
    ('task', 'controller', 'model', 'params_file', 'namespace', 'log_level'))

SIM_LAUNCH_ARGUMENTS = _CONTROLLER_ARGUMENTS + (
    LaunchArgument('mode', 'realtime', 'Simulator pacing: realtime | fast | lockstep.', MODES),
    LaunchArgument('real_time_factor', '1.0', 'realtime mode: sim seconds per wall second.'),
    LaunchArgument('seed', '0', 'Episode start states, noise and drops.'),
    LaunchArgument('duration', '0.0', 'Episode length in sim seconds (0: until stopped).'),
    LaunchArgument('position_noise_std', '0.0', 'Sensor noise on positions (m, rad).'),
    LaunchArgument('velocity_noise_std', '0.0', 'Sensor noise on velocities (m/s, rad/s).'),
    LaunchArgument('sensor_latency_s', '0.0', 'Sensor latency (sim s).'),
    LaunchArgument('drop_probability', '0.0', 'Probability of dropping a sensor message.'),
)

GAZEBO_LAUNCH_ARGUMENTS = _CONTROLLER_ARGUMENTS + (
    LaunchArgument('gui', 'true', 'Show the Gazebo GUI (false: server only).',
                   ('true', 'false')),
    LaunchArgument('seed', '0', "Seed of the task's helper nodes (e.g. the path to follow)."),
)


def _number(name, value, kind=float):
    try:
        number = kind(str(value).strip())
    except ValueError:
        raise LaunchArgumentError(f'{name}:={value} is not a number') from None
    if isinstance(number, float) and not math.isfinite(number):
        raise LaunchArgumentError(f'{name}:={value} is not finite')
    return number


def _bool(name, value):
    text = str(value).strip().lower()
    if text in ('true', '1', 'yes', 'on'):
        return True
    if text in ('false', '0', 'no', 'off'):
        return False
    raise LaunchArgumentError(f'{name}:={value} is not a boolean')


def _task(values):
    return resolve_task(values.get('task', DEFAULT_TASK))


def _controller_arguments(values, task):
    """Arguments for launch/controller.launch.py: on sim time, as with any simulator."""
    return {'task': task.name, 'controller': values.get('controller', 'cfc'),
            'model': values.get('model', ''), 'params_file': values.get('params_file', ''),
            'namespace': values.get('namespace', ''), 'use_sim_time': 'true',
            'log_level': values.get('log_level', 'info')}


def exit_ends_launch_reason(node, returncode):
    """What the launch logs as it ends because `node` (a node the others depend on) exited
    while nobody asked it to: the node's own error is in its output just above."""
    if returncode is not None and returncode < 0:
        try:
            how = f'was killed by {signal.Signals(-returncode).name}'
        except ValueError:
            how = f'was killed by signal {-returncode}'
    else:
        how = f'exited with code {returncode}'
    return (f'{node} {how}; ending the launch, since the nodes started with it depend on it '
            '(its output above says why it stopped)')


@dataclass(frozen=True)
class NodeLaunch:
    """Arguments of launch_ros.actions.Node for one of the package's nodes."""

    executable: str
    name: str
    parameters: dict
    namespace: str = ''
    required: bool = False     # the launch ends when it exits: the other nodes depend on it

    @property
    def full_name(self):
        return f'/{self.namespace.strip("/")}/{self.name}'.replace('//', '/')

    def node_kwargs(self):
        return dict(package=PACKAGE, executable=self.executable, name=self.name,
                    namespace=self.namespace, parameters=[self.parameters], output='screen',
                    emulate_tty=True)


@dataclass(frozen=True)
class SimLaunch:
    sim: NodeLaunch
    controller_arguments: dict

    @property
    def controller_launch_file(self):
        return share_file('launch', 'controller.launch.py')


def resolve_sim_launch(values):
    """sim.launch.py arguments (strings) -> what it starts. Raises LaunchArgumentError."""
    task = _task(values)
    mode = values.get('mode', 'realtime')
    try:
        params = sim_parameters(
            task, mode, 'sim', seed=_number('seed', values.get('seed', 0), int),
            duration=_number('duration', values.get('duration', 0.0)),
            real_time_factor=_number('real_time_factor', values.get('real_time_factor', 1.0)),
            **{k: _number(k, values.get(k, 0.0)) for k in (
                'position_noise_std', 'velocity_noise_std', 'sensor_latency_s',
                'drop_probability')})
    except LaunchArgumentError:
        raise
    except ValueError as exc:
        raise LaunchArgumentError(str(exc)) from None
    return SimLaunch(
        sim=NodeLaunch('sim_node', 'liquid_sim', params, values.get('namespace', ''),
                       required=True),
        controller_arguments=_controller_arguments(values, task))


GAZEBO_BRIDGE_NODE = 'gz_bridge'    # required, as the helpers are: it carries every topic
ROS_GZ_PACKAGES = ('ros_gz_sim', 'ros_gz_bridge')


def gz_sim_launch_file(find_share=None, distro=None):
    """ros_gz_sim's gz_sim.launch.py. Without ros_gz, LaunchArgumentError saying what to
    install (the launch system's own message names only the first missing package)."""
    if find_share is None:
        from ament_index_python.packages import get_package_share_directory as find_share
    missing = []
    for package in ROS_GZ_PACKAGES:
        try:
            find_share(package)
        except LookupError:              # ament_index_python's PackageNotFoundError
            missing.append(package)
    if missing:
        distro = distro if distro is not None else os.environ.get('ROS_DISTRO', '')
        apt = f'ros-{distro}-ros-gz' if distro else 'ros-$ROS_DISTRO-ros-gz'
        verb = 'is' if len(missing) == 1 else 'are'
        raise LaunchArgumentError(
            f'gazebo.launch.py needs Gazebo Harmonic with ros_gz, and {" and ".join(missing)} '
            f'{verb} not installed: install {apt} (e.g. sudo apt install {apt}), or run the '
            'embedded MuJoCo simulator instead: ros2 launch liquid_control sim.launch.py')
    return Path(find_share('ros_gz_sim')) / 'launch' / 'gz_sim.launch.py'


@dataclass(frozen=True)
class GazeboLaunch:
    world: Path
    bridge_config: Path
    gz_args: str
    helpers: tuple               # NodeLaunch: glue nodes (effort relay, path publisher)
    controller_arguments: dict

    @property
    def controller_launch_file(self):
        return share_file('launch', 'controller.launch.py')

    def bridge_node_kwargs(self):
        return dict(package='ros_gz_bridge', executable='parameter_bridge',
                    name=GAZEBO_BRIDGE_NODE, parameters=[{'config_file': str(self.bridge_config),
                                                   'use_sim_time': True}],
                    output='screen')


def resolve_gazebo_launch(values):
    """gazebo.launch.py arguments (strings) -> what it starts. Raises LaunchArgumentError."""
    task = _task(values)
    if task.gazebo is None:
        raise LaunchArgumentError(f'task:={task.name} has no Gazebo world (its Task sets no '
                                  'gazebo files); sim.launch.py runs it in MuJoCo')
    gui = _bool('gui', values.get('gui', 'true'))
    namespace = values.get('namespace', '')
    seed = _number('seed', values.get('seed', 0), int)
    helpers = tuple(
        NodeLaunch(h.executable, h.name, {
            **h.parameters, 'use_sim_time': True,
            **({'seed': seed} if 'seed' in h.parameters else {})}, namespace, required=True)
        for h in task.gazebo.helpers)
    world = Path(task.gazebo.world)
    return GazeboLaunch(
        world=world, bridge_config=Path(task.gazebo.bridge),
        gz_args=f'-r -v 3 {"" if gui else "-s "}{world}', helpers=helpers,
        controller_arguments=_controller_arguments(values, task))
