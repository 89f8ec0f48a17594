"""What launch/sim.launch.py starts (liquid_control.bringup.sim_launch, no launch system needed),
the command lines the demo and the tests use, and the launch file itself where the launch
system is installed."""
from pathlib import Path

import pytest

from liquid_control.bringup import sim_launch as sl
from liquid_control.bringup.processes import (RUN_DOMAINS, fastdds_profile, isolated_environment,
                                              node_command)
from liquid_control.share import share_file

from ros_fixtures import declared_launch_arguments

REPO = Path(__file__).resolve().parents[2]


def defaults(**over):
    return {**{a.name: a.default for a in sl.SIM_LAUNCH_ARGUMENTS}, **over}


def test_sim_launch_defaults_run_cartpole_cfc_on_sim_time():
    plan = sl.resolve_sim_launch(defaults())
    kwargs = plan.sim.node_kwargs()
    assert (kwargs['package'], kwargs['executable'], kwargs['name']) == \
        ('liquid_control', 'sim_node', 'liquid_sim')
    params = kwargs['parameters'][0]
    assert params['task'] == 'cartpole' and params['mode'] == 'realtime'
    # One sensor message and /clock per control period of the controller's config.
    assert params['publish_rate_hz'] == 50.0
    assert plan.controller_arguments == {
        'task': 'cartpole', 'controller': 'cfc', 'model': '', 'params_file': '',
        'namespace': '', 'use_sim_time': 'true', 'log_level': 'info'}
    assert plan.controller_launch_file == share_file('launch', 'controller.launch.py')
    # Every launch argument of controller.launch.py that is passed on exists there.
    from liquid_control.bringup.controller_launch import LAUNCH_ARGUMENTS
    assert set(plan.controller_arguments) <= {a.name for a in LAUNCH_ARGUMENTS}


def test_sim_launch_passes_simulator_arguments_through():
    plan = sl.resolve_sim_launch(defaults(
        task='diffdrive', controller='gru', mode='lockstep', seed='7', duration='30',
        drop_probability='0.1', sensor_latency_s='0.04', namespace='robot1'))
    params = plan.sim.parameters
    assert (params['task'], params['mode'], params['seed'], params['run_duration_s']) == \
        ('diffdrive', 'lockstep', 7, 30.0)
    assert (params['drop_probability'], params['sensor_latency_s']) == (0.1, 0.04)
    assert plan.sim.namespace == 'robot1' and plan.controller_arguments['namespace'] == 'robot1'
    assert plan.controller_arguments['controller'] == 'gru'


@pytest.mark.parametrize('bad', [dict(task='walker'), dict(mode='slow'), dict(seed='x'),
                                 dict(duration='nan'), dict(real_time_factor='fast')])
def test_sim_launch_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        sl.resolve_sim_launch(defaults(**bad))


def test_command_lines_and_parameters():
    params = sl.sim_parameters('cartpole', 'lockstep', 'sim', seed=3, duration=5.0,
                               drop_probability=0.2, paused=True)
    args = node_command('sim_node', params, python='python3')
    assert args[:3] == ['python3', '-m', 'liquid_control.nodes.sim_node']
    assert args[3] == '--ros-args'
    assert '-p' in args and 'mode:=lockstep' in args and 'paused:=true' in args
    assert 'drop_probability:=0.2' in args and 'seed:=3' in args
    ctrl = node_command('controller_node', sl.controller_parameters('cartpole', 'gru'),
                        sl.controller_params_file('cartpole'), python='python3')
    assert ctrl[ctrl.index('--params-file') + 1] == str(sl.controller_params_file('cartpole'))
    assert 'model:=cartpole_gru' in ctrl and 'use_sim_time:=true' in ctrl
    assert 'model:=/x/m.onnx' in node_command(
        'controller_node', sl.controller_parameters('cartpole', 'cfc', '/x/m.onnx'))
    assert node_command('sim_node', namespace='/robot1/')[-2:] == ['-r', '__ns:=/robot1']
    # A wall-clock controller reads sensors published faster than it ticks.
    assert sl.sim_parameters('cartpole', 'realtime', 'wall')['publish_rate_hz'] == \
        sl.WALL_CLOCK_SENSOR_RATE_HZ
    with pytest.raises(ValueError):
        sl.sim_parameters('cartpole', 'lockstep', 'wall')
    with pytest.raises(ValueError):
        sl.model_spec('cartpole', 'transformer')
    assert sl.model_spec('cartpole', 'lstm') == 'cartpole_lstm'   # as controller.launch.py
    env = isolated_environment(42, '/tmp/logs', base={'ROS_DOMAIN_ID': '0'})
    assert env['ROS_DOMAIN_ID'] == '42' and env['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'LOCALHOST'
    assert env['ROS_LOG_DIR'] == '/tmp/logs'
    # No domain given: the one already set stays; none set: a private one.
    assert isolated_environment(base={'ROS_DOMAIN_ID': '7'})['ROS_DOMAIN_ID'] == '7'
    assert int(isolated_environment(base={})['ROS_DOMAIN_ID']) in RUN_DOMAINS
    # The package's Fast DDS profile, unless the user has one of their own.
    assert env['FASTDDS_DEFAULT_PROFILES_FILE'] == str(fastdds_profile())
    assert isolated_environment(base={'FASTDDS_DEFAULT_PROFILES_FILE': '/mine.xml'})[
        'FASTDDS_DEFAULT_PROFILES_FILE'] == '/mine.xml'


def test_sim_launch_file_imports_where_launch_exists():
    pytest.importorskip('launch')
    pytest.importorskip('launch_ros')
    names = declared_launch_arguments(REPO / 'launch' / 'sim.launch.py')
    assert {a.name for a in sl.SIM_LAUNCH_ARGUMENTS} <= names


def test_a_simulator_that_exits_ends_the_launch_with_its_reason():
    plan = sl.resolve_sim_launch(defaults(namespace='robot1'))
    assert plan.sim.required and plan.sim.full_name == '/robot1/liquid_sim'
    assert sl.resolve_sim_launch(defaults()).sim.full_name == '/liquid_sim'
    reason = sl.exit_ends_launch_reason('/liquid_sim', 2)
    assert reason.startswith('/liquid_sim exited with code 2; ending the launch')
    assert sl.exit_ends_launch_reason('/liquid_sim', -9).startswith(
        '/liquid_sim was killed by SIGKILL;')
    assert 'signal 99' in sl.exit_ends_launch_reason('/liquid_sim', -99)


def launch_file_nodes(launch_file):
    """(keyword names) of every launch_ros Node(...) a launch file creates, read from its
    source: the launch system is not needed to check how the nodes are wired."""
    import ast
    tree = ast.parse((REPO / 'launch' / launch_file).read_text())
    return [{k.arg for k in call.keywords} for call in ast.walk(tree)
            if isinstance(call, ast.Call) and getattr(call.func, 'id', '') == 'Node']


@pytest.mark.parametrize('launch_file, count', [('sim.launch.py', 1), ('gazebo.launch.py', 2)])
def test_launch_files_end_the_launch_when_a_node_they_start_exits(launch_file, count):
    nodes = launch_file_nodes(launch_file)
    assert len(nodes) == count and all('on_exit' in keywords for keywords in nodes)


def test_end_launch_on_exit_logs_the_reason_and_shuts_down_unless_already_stopping():
    pytest.importorskip('launch.actions')     # the launch system, where it is installed
    from types import SimpleNamespace

    from launch.actions import LogInfo, Shutdown

    from liquid_control.bringup.required_nodes import end_launch_on_exit
    on_exit = end_launch_on_exit('/liquid_sim')
    log, shutdown = on_exit(SimpleNamespace(returncode=1), SimpleNamespace(is_shutdown=False))
    assert isinstance(log, LogInfo) and isinstance(shutdown, Shutdown)
    assert on_exit(SimpleNamespace(returncode=0), SimpleNamespace(is_shutdown=True)) is None
