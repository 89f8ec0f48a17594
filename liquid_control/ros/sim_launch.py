"""What a simulation run starts, as plain data: used by `liquid-control demo`, the closed-loop
tests and launch/sim.launch.py, so the launch file stays a thin wrapper of tested code.

No ROS import: functions return parameter dicts and command lines.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from ..tasks.spec import get_task

PACKAGE = 'liquid_control'
CONTROLLERS = ('cfc', 'ltc', 'ncp', 'gru')
EXPERT = 'expert'
MODES = ('realtime', 'fast', 'lockstep')
# Sensors per second in realtime mode when the controller runs on the wall clock: well above
# the control rate, so the newest sample a tick reads is at most a few ms old (as with a
# joint_state_broadcaster at a high rate on a robot).
WALL_CLOCK_SENSOR_RATE_HZ = 250.0


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
    return python_command('liquid_control.ros.sim_node', python) + ros_args(params)


def controller_command(task, params, python=None):
    return python_command('liquid_control.ros.controller_node', python) + ros_args(
        params, controller_params_file(task))


def expert_command(params, python=None):
    return python_command('liquid_control.ros.sim_expert', python) + ros_args(params)


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
