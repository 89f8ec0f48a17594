"""What launch/sim.launch.py starts (liquid_control.bringup.sim_launch, no launch system needed),
the command lines the demo and the tests use, and the launch file itself where the launch
system is installed."""
from pathlib import Path

import pytest

from liquid_control.bringup import sim_launch as sl
from liquid_control.bringup.processes import isolated_environment, node_command
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
    env = isolated_environment(42, '/tmp/logs', base={'ROS_DOMAIN_ID': '0'})
    assert env['ROS_DOMAIN_ID'] == '42' and env['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'LOCALHOST'
    assert env['ROS_LOG_DIR'] == '/tmp/logs'
    # No domain given: the one already set stays; none set: a private one.
    assert isolated_environment(base={'ROS_DOMAIN_ID': '7'})['ROS_DOMAIN_ID'] == '7'
    assert 1 <= int(isolated_environment(base={})['ROS_DOMAIN_ID']) <= 101


def test_sim_launch_file_imports_where_launch_exists():
    pytest.importorskip('launch')
    pytest.importorskip('launch_ros')
    names = declared_launch_arguments(REPO / 'launch' / 'sim.launch.py')
    assert {a.name for a in sl.SIM_LAUNCH_ARGUMENTS} <= names
