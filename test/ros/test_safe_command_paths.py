"""The safe command on the ways the controller stops controlling besides a signal and
deactivate (tested elsewhere): a control tick that raises, shutdown requested through the
lifecycle service, and a transition that fails (error processing). Node in this process,
driven over DDS by reliability.harness; each fault is injected into the running node."""
import numpy as np
import pytest
from lifecycle_msgs.msg import Transition
from rosgraph_msgs.msg import Clock
from lifecycle_msgs.srv import ChangeState
from sensor_msgs.msg import JointState

from liquid_control_tools.reliability.harness import NodeUnderTest, wait_until
from liquid_control_tools.reliability.models import probe_model

from ros_fixtures import joint_state

NODE = '/liquid_controller'


def controlling(node, feed):
    """Run `feed` every 10 ms, wait until the node controls, hand the node over; stop the
    feed and close the node afterwards."""
    timer = node.driver.node.create_timer(0.01, feed)
    node.safe = np.asarray(node.values['action.safe'], dtype=np.float64)
    try:
        assert node.wait_matched()
        assert node.commands.wait_for(lambda v: not np.array_equal(v, node.safe), 10.0), \
            'the node controls before the fault'
        yield node
    finally:
        node.driver.node.destroy_timer(timer)
        node.close()


@pytest.fixture
def nut(tmp_path):
    node = NodeUnderTest('cartpole', probe_model(tmp_path / 'probe.onnx', 'cartpole'))
    publisher = node.publisher(JointState, '/joint_states')
    yield from controlling(node, lambda: publisher.publish(joint_state()))


@pytest.fixture
def sim_nut(tmp_path):
    """The node on sim time: the feed publishes a sensor message, then advances /clock by
    one 10 ms period, as a simulator in lockstep does."""
    node = NodeUnderTest('cartpole', probe_model(tmp_path / 'probe.onnx', 'cartpole'),
                         use_sim_time=True, control_rate_hz=100.0)
    sensors = node.publisher(JointState, '/joint_states')
    clock = node.publisher(Clock, '/clock')
    now = [1_000_000_000]

    def step():
        sensors.publish(joint_state())
        now[0] += 10_000_000
        msg = Clock()
        msg.clock.sec, msg.clock.nanosec = divmod(now[0], 1_000_000_000)
        clock.publish(msg)
    yield from controlling(node, step)


def is_safe(nut):
    return lambda values: np.array_equal(values, nut.safe)


def transition(nut, transition_id):
    request = ChangeState.Request()
    request.transition.id = transition_id
    return nut.driver.call(ChangeState, f'{NODE}/change_state', request)


def test_a_tick_that_raises_gives_the_safe_command_and_control_resumes(nut):
    core = nut.node._core

    def broken(now_ns, dt):
        raise RuntimeError('injected fault in the tick')

    core.tick = broken
    try:
        # Every tick now fails: the next commands are all the safe one.
        assert nut.commands.wait_for(is_safe(nut), 5.0)
        assert nut.commands.wait_count(5, 5.0) and np.array_equal(nut.commands.latest, nut.safe)
        assert 'injected fault in the tick' in nut.node._last_loop_error
        assert nut.node.lifecycle_state == 'active'
    finally:
        del core.tick                      # the class's tick again
    assert nut.commands.wait_for(lambda v: not np.array_equal(v, nut.safe), 5.0)


def test_on_sim_time_a_tick_that_raises_gives_the_safe_command_and_control_resumes(sim_nut):
    # The same policy as the wall-clock loop: report, safe command, go on (the exception
    # used to escape to the executor and stop the node).
    test_a_tick_that_raises_gives_the_safe_command_and_control_resumes(sim_nut)


def test_shutdown_through_the_lifecycle_service_publishes_the_safe_command(nut):
    assert transition(nut, Transition.TRANSITION_ACTIVE_SHUTDOWN).success
    assert wait_until(lambda: nut.node.lifecycle_state == 'finalized', 5.0)
    # The last command the node sent (the feed goes on: nothing else may follow it).
    assert wait_until(lambda: np.array_equal(nut.commands.latest, nut.safe), 5.0), \
        nut.commands.latest


def test_a_failing_transition_goes_through_error_processing_with_the_safe_command(nut):
    node = nut.node
    real_stop = node._stop_loop
    failures = []

    def stop_once_failing():
        if not failures:
            failures.append(1)
            raise RuntimeError('injected fault in deactivate')
        real_stop()

    node._stop_loop = stop_once_failing
    try:
        transition(nut, Transition.TRANSITION_DEACTIVATE)
        # on_error stops the loop, publishes the safe command, releases: unconfigured.
        assert wait_until(lambda: node.lifecycle_state == 'unconfigured', 5.0), \
            node.lifecycle_state
        assert failures == [1]
        assert wait_until(lambda: np.array_equal(nut.commands.latest, nut.safe), 5.0), \
            nut.commands.latest
    finally:
        node._stop_loop = real_stop


def test_rapid_swaps_while_ticking_keep_every_command_valid(nut, tmp_path):
    models = [probe_model(tmp_path / f'm{i}.onnx', 'cartpole', seed=i) for i in range(3)]
    for i in range(30):
        ok, reason = nut.driver.set_parameter(NODE, 'model', str(models[i % 3]))
        assert ok, reason
    # The last one set is the one that runs, and the node kept controlling throughout.
    last = nut.node._core.controller
    assert wait_until(lambda: str(nut.node._core.controller.path) == str(models[29 % 3]), 5.0), \
        last.path
    assert nut.commands.wait_for(lambda v: not np.array_equal(v, nut.safe), 5.0)
    assert nut.commands.bad == 0, nut.commands.first_bad
    assert nut.node._core.swaps >= 1 and not nut.crashes()
