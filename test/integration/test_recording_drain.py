"""A run's bag holds every message its recorder received, however far the recorder lagged.

On a saturated machine the recorder's executor falls hundreds of messages behind the
publishers; stopping the run must record that backlog rather than drop it. The test holds
the executor in a callback (as the load does), publishes a burst that DDS delivers and
acknowledges meanwhile, and lets the executor go only after the simulator has stopped.
"""
import threading

import pytest

pytest.importorskip('mujoco')
pytest.importorskip('rclpy')

from liquid_control.bringup.session import SimSession
from liquid_control.interfaces import DIAGNOSTIC_ARRAY, DIAGNOSTICS, message_class
from liquid_control.recording.bag import read_bag

BURST = 300
TIMEOUT_S = 60.0
MARK = 'drain-test'          # a frame the simulator's diagnostics never carry


def test_stop_records_the_backlog_of_a_lagging_recorder(tmp_path):
    from rclpy.duration import Duration
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

    session = SimSession(tmp_path, task='cartpole', controller=None, mode='lockstep',
                         duration=5.0)
    held, release = threading.Event(), threading.Event()
    stopper = None
    try:
        session.launch()
        # Depth for the whole burst, so DDS itself keeps every message.
        publisher = session.node.create_publisher(
            message_class(DIAGNOSTIC_ARRAY), DIAGNOSTICS,
            QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=BURST,
                       reliability=ReliabilityPolicy.RELIABLE))
        assert session.wait_for(lambda: publisher.get_subscription_count() >= 1, TIMEOUT_S)

        def hold():
            held.set()
            release.wait(TIMEOUT_S)

        guard = session.node.create_guard_condition(hold)
        guard.trigger()
        assert held.wait(TIMEOUT_S), 'the executor never ran the holding callback'
        for _ in range(BURST):
            publisher.publish(_marked())
        # Every message is in the recorder's subscription queue, none taken yet.
        assert publisher.wait_for_all_acked(Duration(seconds=TIMEOUT_S))

        stopper = threading.Thread(target=session.stop)
        stopper.start()
        assert session.processes['sim_node'].wait(TIMEOUT_S) is not None
        release.set()
        stopper.join(TIMEOUT_S)
        assert not stopper.is_alive(), 'stop() did not return'
    finally:
        release.set()
        if stopper is None:
            session.stop()
    assert session.recording_error == ''
    frames = [msg.header.frame_id for _, _, _, msg in read_bag(session.bag_path, [DIAGNOSTICS])]
    assert frames.count(MARK) == BURST, f'{len(frames)} /diagnostics recorded: {set(frames)}'


def _marked():
    msg = message_class(DIAGNOSTIC_ARRAY)()
    msg.header.frame_id = MARK
    return msg
