"""What a simulation run starts, as plain data: used by `liquid-control demo`, the closed-loop
tests and launch/sim.launch.py, so the launch file stays a thin wrapper of tested code.

No ROS import: functions return parameter dicts and command lines.
"""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from liquid_control.tasks.spec import get_task

from .controller_launch import LaunchArgument

PACKAGE = 'liquid_control'
CONTROLLERS = ('cfc', 'ltc', 'ncp', 'gru')   # as launch/controller.launch.py takes
EXPERT = 'expert'
MODES = ('realtime', 'fast', 'lockstep')
# Sensors per second in realtime mode when the controller runs on the wall clock: well above
# the control rate, so the newest sample a tick reads is at most a few ms old (as with a
# joint_state_broadcaster at a high rate on a robot).
WALL_CLOCK_SENSOR_RATE_HZ = 100.0


def package_share():
    """share/liquid_control of a ROS install, else the source tree's root (which holds the
    same config/, launch/, models/ and worlds/)."""
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory(PACKAGE))
    except Exception:   # not installed, or no AMENT_PREFIX_PATH
        return Path(__file__).resolve().parents[2]


def controller_params_file(task):
    """config/<task>.yaml: the controller's parameters for the task."""
    get_task(task)
    return package_share() / 'config' / f'{task}.yaml'


def model_spec(task, controller, model=''):
    """The `model` parameter: an explicit path wins, else the shipped `<task>_<controller>`."""
    if model:
        return str(model)
    if controller not in CONTROLLERS:
        raise ValueError(f'controller must be one of {", ".join(CONTROLLERS)} (or give a '
                         f'model path); got {controller!r}')
    return f'{task}_{controller}'


def control_rate_hz(task):
    return 1.0 / get_task(task).nominal_dt


def sim_parameters(task='cartpole', mode='realtime', controller_clock='sim', seed=0,
                   duration=0.0, publish_rate_hz=None, **extra):
    """Parameters of sim_node for a run.

    With a controller on sim time the sensors and /clock come once per control period (in
    lockstep that is required: one tick answers one publication); with a controller on the
    wall clock (realtime only) they come faster, see WALL_CLOCK_SENSOR_RATE_HZ.
    `extra` passes further sim_node parameters through (noise, latency, drops,
    physics.<name>).
    """
    get_task(task)
    if mode not in MODES:
        raise ValueError(f'mode must be one of {", ".join(MODES)}; got {mode!r}')
    if controller_clock not in ('sim', 'wall'):
        raise ValueError(f"controller_clock must be 'sim' or 'wall'; got {controller_clock!r}")
    if controller_clock == 'wall' and mode != 'realtime':
        raise ValueError(f'a controller on the wall clock needs the realtime mode, not {mode}')
    if publish_rate_hz is None:
        publish_rate_hz = (WALL_CLOCK_SENSOR_RATE_HZ if controller_clock == 'wall'
                           else control_rate_hz(task))
    params = {'task': task, 'mode': mode, 'seed': int(seed),
              'publish_rate_hz': float(publish_rate_hz), 'run_duration_s': float(duration)}
    for key, value in extra.items():
        if value is None:
            continue
        params[key] = float(value) if isinstance(value, int) and not isinstance(value, bool) \
            else value
    return params


def controller_parameters(task, controller='cfc', model='', use_sim_time=True):
    """Overrides on top of config/<task>.yaml for controller_node in a simulation run."""
    params = {'model': model_spec(task, controller, model),
              'control_rate_hz': control_rate_hz(task), 'use_sim_time': bool(use_sim_time)}
    return params


def expert_parameters(task, use_sim_time=True):
    return {'task': task, 'control_rate_hz': control_rate_hz(task),
            'use_sim_time': bool(use_sim_time)}


def _param_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f'parameter value {value} is not finite')
        return repr(value)
    return str(value)


def ros_args(params, params_file=None):
    """['--ros-args', ('--params-file', f,) '-p', 'k:=v', ...] for a node's command line."""
    args = ['--ros-args']
    if params_file is not None:
        args += ['--params-file', str(params_file)]
    for key, value in params.items():
        args += ['-p', f'{key}:={_param_value(value)}']
    return args


def python_command(module, python=None):
    """Run a node module with this interpreter (works in a source checkout and a venv; the
    console scripts sim_node / controller_node are the same entry points)."""
    return [python or sys.executable, '-m', module]


def sim_command(params, python=None):
    return python_command('liquid_control.nodes.sim_node', python) + ros_args(params)


def controller_command(task, params, python=None):
    return python_command('liquid_control.nodes.controller_node', python) + ros_args(
        params, controller_params_file(task))


def expert_command(params, python=None):
    return python_command('liquid_control.nodes.expert_node', python) + ros_args(params)


def isolated_environment(domain_id, log_dir=None, base=None):
    """Environment for the run's processes: a private DDS domain, discovery on this host
    only (so a robot on the network never sees these commands), logs in log_dir."""
    env = dict(os.environ if base is None else base)
    env['ROS_DOMAIN_ID'] = str(int(domain_id))
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    env.setdefault('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')
    env['PYTHONUNBUFFERED'] = '1'
    if log_dir is not None:
        env['ROS_LOG_DIR'] = str(log_dir)
    return env


# -- launch files --------------------------------------------------------------------------
# launch/sim.launch.py and launch/gazebo.launch.py only declare these arguments and start
# what the resolve_* functions return.

_CONTROLLER_ARGUMENTS = (
    LaunchArgument('task', 'cartpole', 'Task: cartpole | diffdrive.', ('cartpole', 'diffdrive')),
    LaunchArgument('controller', 'cfc', 'Controller: the shipped model <task>_<controller>.',
                   CONTROLLERS),
    LaunchArgument('model', '', 'Model name or .onnx path; overrides task + controller.'),
    LaunchArgument('params_file', '', 'Controller parameters file (default '
                   'config/<task>.yaml).'),
    LaunchArgument('namespace', '', 'Namespace of the nodes and their relative topics.'),
    LaunchArgument('log_level', 'info', 'Log level of the controller.',
                   ('debug', 'info', 'warn', 'error', 'fatal')),
)

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
    LaunchArgument('path_seed', '0', 'diff-drive: seed of the path liquid_path publishes.'),
)


def _number(name, value, kind=float):
    try:
        number = kind(str(value).strip())
    except ValueError:
        raise ValueError(f'{name}:={value} is not a number') from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f'{name}:={value} is not finite')
    return number


def _bool(name, value):
    text = str(value).strip().lower()
    if text in ('true', '1', 'yes', 'on'):
        return True
    if text in ('false', '0', 'no', 'off'):
        return False
    raise ValueError(f'{name}:={value} is not a boolean')


def _controller_arguments(values):
    """Arguments for launch/controller.launch.py: on sim time, as with any simulator."""
    task = values.get('task', 'cartpole')
    get_task(task)
    return {'task': task, 'controller': values.get('controller', 'cfc'),
            'model': values.get('model', ''), 'params_file': values.get('params_file', ''),
            'namespace': values.get('namespace', ''), 'use_sim_time': 'true',
            'log_level': values.get('log_level', 'info')}


@dataclass(frozen=True)
class NodeLaunch:
    """Arguments of launch_ros.actions.Node (package liquid_control)."""

    executable: str
    name: str
    parameters: dict
    namespace: str = ''

    def node_kwargs(self):
        return dict(package=PACKAGE, executable=self.executable, name=self.name,
                    namespace=self.namespace, parameters=[self.parameters], output='screen',
                    emulate_tty=True)


@dataclass(frozen=True)
class ModuleLaunch:
    """A liquid_control node without a console script: `python3 -m <module> --ros-args`."""

    name: str
    module: str
    parameters: dict
    namespace: str = ''

    def cmd(self, python=None):
        args = python_command(self.module, python) + ros_args(self.parameters)
        if self.namespace:
            args += ['-r', f'__ns:=/{self.namespace.strip("/")}']
        return args


@dataclass(frozen=True)
class SimLaunch:
    sim: NodeLaunch
    controller_arguments: dict

    @property
    def controller_launch_file(self):
        return package_share() / 'launch' / 'controller.launch.py'


def resolve_sim_launch(values):
    """sim.launch.py arguments (strings) -> what it starts. Raises ValueError."""
    task = values.get('task', 'cartpole')
    mode = values.get('mode', 'realtime')
    params = sim_parameters(
        task, mode, 'sim', seed=_number('seed', values.get('seed', 0), int),
        duration=_number('duration', values.get('duration', 0.0)),
        real_time_factor=_number('real_time_factor', values.get('real_time_factor', 1.0)),
        **{k: _number(k, values.get(k, 0.0)) for k in (
            'position_noise_std', 'velocity_noise_std', 'sensor_latency_s',
            'drop_probability')})
    return SimLaunch(
        sim=NodeLaunch('sim_node', 'liquid_sim', params, values.get('namespace', '')),
        controller_arguments=_controller_arguments(values))



@dataclass(frozen=True)
class GazeboLaunch:
    world: Path
    bridge_config: Path
    gz_args: str
    helpers: tuple               # ModuleLaunch: glue nodes (effort relay, path publisher)
    controller_arguments: dict

    @property
    def controller_launch_file(self):
        return package_share() / 'launch' / 'controller.launch.py'

    def bridge_node_kwargs(self):
        return dict(package='ros_gz_bridge', executable='parameter_bridge',
                    name='gz_bridge', parameters=[{'config_file': str(self.bridge_config),
                                                   'use_sim_time': True}],
                    output='screen')


def resolve_gazebo_launch(values):
    """gazebo.launch.py arguments (strings) -> what it starts. Raises ValueError."""
    task = values.get('task', 'cartpole')
    get_task(task)
    share = package_share()
    world = share / 'worlds' / f'{task}.sdf'
    gui = _bool('gui', values.get('gui', 'true'))
    namespace = values.get('namespace', '')
    on_sim_time = {'use_sim_time': True}
    if task == 'cartpole':
        helpers = (ModuleLaunch('liquid_effort_relay', 'liquid_control.nodes.effort_relay_node',
                                on_sim_time, namespace),)
    else:
        helpers = (ModuleLaunch('liquid_path', 'liquid_control.nodes.path_node', {
            **on_sim_time, 'seed': _number('path_seed', values.get('path_seed', 0), int)},
            namespace),)
    return GazeboLaunch(
        world=world, bridge_config=share / 'config' / f'gz_bridge_{task}.yaml',
        gz_args=f'-r -v 3 {"" if gui else "-s "}{world}', helpers=helpers,
        controller_arguments=_controller_arguments(values))
