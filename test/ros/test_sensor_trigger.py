"""controller_node with `trigger: sensor`, in this process over real DDS: each message of the
primary sensor ticks with dt from the stamps, a burst ticks at most max_rate_hz by message
time, a stamp that goes back is a time jump, and a sensor that stops gets the safe command
from the watchdog."""
import pytest
from sensor_msgs.msg import JointState

from liquid_control.control.core import Outcome
from liquid_control.runtime import load_controller

from ros_fixtures import (  # noqa: F401
    cartpole_params,
    commands,
    joint_state,
    reliable_qos,
    ros,
    ros_context,
    task_models,
    wait_for,
)

SAFE = [0.0]


def stamped(sec, nanosec, position=(0.1, -0.2), velocity=(0.0, 0.3)):
    msg = joint_state(position=position, velocity=velocity)
    msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nanosec
    return msg


def obs(msg):
    """The cart-pole observation a JointState gives (the task's order)."""
    return [msg.position[0], msg.velocity[0], msg.position[1], msg.velocity[1]]


def sensor_node(ros, model, **overrides):
    helper, start = ros
    out = commands(helper)
    pub = helper.create_publisher(JointState, '/joint_states', reliable_qos())
    node = start(cartpole_params(model, trigger='sensor', control_rate_hz=50.0,
                                 sensor_timeout_s=0.5, **overrides))
    assert node.lifecycle_state == 'active'
    wait_for(lambda: pub.get_subscription_count() >= 1, what='the node subscribed')
    return node, pub, out


def control_ticks(node):
    return node._core.outcomes[Outcome.CONTROL]


def test_each_message_ticks_with_dt_from_its_stamp(ros, task_models):
    model = task_models['cartpole_gru']
    node, pub, out = sensor_node(ros, model)
    # No message yet: the watchdog's ticks publish the safe command.
    assert all(list(m.data) == SAFE for m in out.wait(2))
    first, second = stamped(100, 0), stamped(100, 13_000_000, (0.2, -0.1), (0.1, 0.2))
    reference = load_controller(model)
    expected = [reference.step(obs(first), 0.02), reference.step(obs(second), 0.013)]
    for msg, action in zip((first, second), expected):
        mark = out.mark()
        pub.publish(msg)
        got = out.wait(1, since=mark, predicate=lambda m: list(m.data) != SAFE)[0]
        # The first tick is one nominal period (1/control_rate_hz) from the reset state, the
        # second 13 ms of stamp time later: float32 precision tells a wrong dt apart.
        assert got.data[0] == pytest.approx(float(action[0]), rel=1e-6)
    assert control_ticks(node) == 2
    assert node.diagnostics_snapshot()['trigger'] == 'sensor'


def test_a_burst_ticks_at_most_max_rate_by_message_time(ros, task_models):
    # Reliable, depth 10: the ten messages of the burst all reach the node.
    node, pub, _ = sensor_node(ros, task_models['cartpole_cfc'], max_rate_hz=250.0,
                               **{'observations.joint_states.qos': 'reliable'})
    for k in range(10):                      # 1 ms of stamp time apart: a burst
        pub.publish(stamped(200, k * 1_000_000))
    wait_for(lambda: node.diagnostics_snapshot()['received'] == 10, what='10 messages used')
    # Ticks at 0, 4 and 8 ms of stamp time; the rest only updated the observation.
    assert control_ticks(node) == 3


def test_a_stamp_that_goes_back_is_a_time_jump(ros, task_models):
    node, pub, out = sensor_node(ros, task_models['cartpole_gru'])
    for sec in (300, 301, 299):
        mark = out.mark()
        pub.publish(stamped(sec, 0))
        out.wait(1, since=mark, predicate=lambda m: list(m.data) != SAFE)
    assert node._core.time_jumps == 1 and control_ticks(node) == 3


def test_a_sensor_that_stops_gets_the_safe_command(ros, task_models):
    node, pub, out = sensor_node(ros, task_models['cartpole_gru'], **{'action.safe': [2.5]})
    mark = out.mark()
    pub.publish(stamped(400, 0))
    out.wait(1, since=mark, predicate=lambda m: list(m.data) != [2.5])
    # Silence: after sensor_timeout_s the watchdog's timer ticks, with the safe command.
    out.wait(3, predicate=lambda m: list(m.data) == [2.5])
    assert node._core.watchdog.tripped and control_ticks(node) == 1
    # Data returns: the next message ticks the model again.
    mark = out.mark()
    pub.publish(stamped(401, 0))
    out.wait(1, since=mark, predicate=lambda m: list(m.data) != [2.5])
    assert control_ticks(node) == 2
