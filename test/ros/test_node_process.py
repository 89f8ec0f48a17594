"""controller_node as a separate process, driven from here over DDS only: sensor data in,
commands out, the standard lifecycle and parameter services, diagnostics. One node serves the
module; each test leaves it active and sets what it relies on itself, so the tests pass in any
order (the signal tests, which end a node, start their own: test_node_signals.py)."""
import pytest
from lifecycle_msgs.msg import Transition

from liquid_control.runtime import load_controller

from node_process_support import controlled, log_of, remote, start_node  # noqa: F401
from ros_fixtures import ros_context, task_models, wait_for  # noqa: F401

pytestmark = pytest.mark.slow   # seconds each (processes): not in the fast loop


@pytest.fixture(scope='module')
def node_process(task_models, tmp_path_factory, remote):
    proc = start_node(task_models['cartpole_gru'], tmp_path_factory.mktemp('log') / 'node.log')
    try:
        assert remote.get_state.wait_for_service(timeout_sec=20), log_of(proc)
        wait_for(lambda: remote.state() == 'active', timeout=20, what='node active')
        remote.warm_up()
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_commands_for_joint_states_across_processes(node_process, remote, task_models):
    # The GRU, from a node whose watchdog has tripped (no data: the safe command), whatever
    # ran before in this module.
    assert remote.set('model', str(task_models['cartpole_gru'])).successful
    remote.status(lambda v: v.get('model') == 'cartpole_gru')
    remote.stop_feeding()
    remote.commands.wait(1, since=remote.commands.mark(), predicate=lambda m: not controlled(m))
    mark = remote.commands.mark()
    remote.feeding()
    got = remote.commands.wait(5, since=mark, predicate=controlled)
    # dt_source nominal: the first controlled tick is one step of exactly 0.01 s from the
    # zero state the watchdog leaves when data arrives: known to float32 precision.
    reference = load_controller(task_models['cartpole_gru']).step([0.1, 0.0, -0.2, 0.3], 0.01)
    assert got[0].data[0] == pytest.approx(float(reference[0]), rel=1e-6)
    assert all(-30.0 <= m.data[0] <= 30.0 for m in got)
    level, message, values = remote.status(lambda v: v.get('watchdog') == 'ok')
    assert level in (0, 1), message      # WARN would be missed ticks on a loaded machine
    assert values['model'] == 'cartpole_gru'
    assert values['model_sha256'] == load_controller(task_models['cartpole_gru']).file_sha256


def test_lifecycle_transitions_through_the_standard_services(node_process, remote):
    remote.feeding()
    remote.commands.wait(2, predicate=controlled)
    mark = remote.commands.mark()
    assert remote.transition(Transition.TRANSITION_DEACTIVATE)
    assert remote.state() == 'inactive'
    # Deactivate publishes the safe command once, then nothing while inactive.
    safe = remote.commands.wait(1, since=mark, predicate=lambda m: not controlled(m))
    assert list(safe[-1].data) == [0.0]
    quiet_from = remote.commands.mark()
    level, message, values = remote.status(lambda v: v['lifecycle_state'] == 'inactive')
    assert 'not controlling' in message
    assert remote.commands.mark() == quiet_from, 'no command while inactive'
    assert remote.transition(Transition.TRANSITION_CLEANUP)
    assert remote.state() == 'unconfigured'
    assert remote.transition(Transition.TRANSITION_CONFIGURE)
    assert remote.transition(Transition.TRANSITION_ACTIVATE)
    assert remote.state() == 'active'
    remote.commands.wait(3, predicate=controlled)


def test_parameter_swap_succeeds_between_ticks(node_process, remote, task_models):
    remote.feeding()
    result = remote.set('model', str(task_models['cartpole_cfc']))
    assert result.successful, result.reason
    assert remote.get('model').string_value == str(task_models['cartpole_cfc'])
    level, _, values = remote.status(lambda v: v.get('model') == 'cartpole_cfc')
    assert values['model_sha256'] == load_controller(task_models['cartpole_cfc']).file_sha256
    assert int(values['swaps']) >= 1
    remote.commands.wait(3, predicate=controlled)


@pytest.mark.parametrize('name,value,reason', [
    ('model', '/nonexistent/model.onnx', 'no such model file'),
    ('model', 'no_such_model_name', "no model named 'no_such_model_name'"),
    ('model', 'MISMATCH', "model:   ['cart.x'"),
    ('control_rate_hz', 0.0, 'control_rate_hz'),
    ('action.topic', '/elsewhere', 'read-only'),
])
def test_a_failed_set_keeps_the_running_model(node_process, remote, task_models, name, value,
                                               reason):
    if value == 'MISMATCH':
        value = str(task_models['cartpole_mismatch'])
    before = remote.get('model').string_value
    result = remote.set(name, value)
    assert not result.successful
    assert reason in result.reason
    assert remote.get('model').string_value == before
    assert remote.state() == 'active'
    remote.feeding()
    remote.commands.wait(3, predicate=controlled)


def test_live_parameters_accept_integers_for_doubles(node_process, remote):
    result = remote.set('control_rate_hz', 100)          # as `ros2 param set ... 100` sends
    assert result.successful, result.reason
    assert remote.get('control_rate_hz').integer_value == 100
    result = remote.set('action.rate_limit', 'fast')
    assert not result.successful and 'must be a list of numbers' in result.reason
    remote.feeding()
    remote.commands.wait(3, predicate=controlled)


def test_swap_by_lifecycle(node_process, remote, task_models):
    # To the other model than the one running, whichever an earlier test left.
    running = remote.get('model').string_value
    target = 'cartpole_cfc' if running.endswith('cartpole_gru.onnx') else 'cartpole_gru'
    remote.feeding()
    assert remote.transition(Transition.TRANSITION_DEACTIVATE)
    assert remote.set('model', str(task_models[target])).successful
    # Inactive: loaded and installed at once.
    remote.status(lambda v: v.get('model') == target and v['lifecycle_state'] == 'inactive')
    assert remote.transition(Transition.TRANSITION_ACTIVATE)
    _, _, values = remote.status(lambda v: v['lifecycle_state'] == 'active')
    assert values['model'] == target
    assert values['model_sha256'] == load_controller(task_models[target]).file_sha256
    remote.commands.wait(3, predicate=controlled)
