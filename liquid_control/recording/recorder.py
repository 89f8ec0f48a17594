"""Record live ROS 2 topics into a BagWriter, as `ros2 bag record -s mcap` does.

Subscriptions take the serialized bytes (rclpy `raw=True`), so what is stored is exactly
what arrived on the wire, stamped with its receive time on the system clock (the default of
`ros2 bag record`). Everything happens in the executor thread that spins `node`. A write that
fails (a full disk) stops the recording, not the subscriptions: `error` says why.
"""
from __future__ import annotations

import time

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from liquid_control.interfaces import message_class

from .bag import qos as bag_qos


def subscription_qos(reliable=True, transient_local=False, depth=100):
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST, depth=depth,
        reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=(DurabilityPolicy.TRANSIENT_LOCAL if transient_local
                    else DurabilityPolicy.VOLATILE))


class TopicRecorder:
    """Subscribes to `topics` (topic -> type name) on `node` and writes every message.

    `transient_local` names topics whose publishers latch (e.g. /plan), so a late recorder
    still gets the last message. `on_message(topic, stamp_ns, data)` is called after each
    write, for live displays.
    """

    def __init__(self, node, writer, topics, transient_local=(), on_message=None, depth=1000):
        self._writer = writer
        self._on_message = on_message
        self._logger = node.get_logger()
        self.error = ''            # why writing stopped (a full disk, ...); '' while it works
        self._subs = {}
        for topic, type_name in topics.items():
            latched = topic in transient_local
            self._subs[topic] = (node.create_subscription(
                message_class(type_name), topic, self._callback(topic),
                subscription_qos(transient_local=latched, depth=depth), raw=True))
        self.stopped = False

    def _callback(self, topic):
        def record(data):
            if self.stopped:
                return
            stamp = time.time_ns()
            if not self.error:
                try:
                    self._writer.write(topic, stamp, data)
                except OSError as exc:
                    # A full disk or a file-size limit: stop writing (what is stored stays
                    # readable up to here) but keep the live view going, and say why.
                    self.error = f'writing the bag failed: {exc}'
                    self._logger.error(f'{self.error}; recording stopped, the run goes on')
            if self._on_message is not None:
                self._on_message(topic, stamp, data)
        return record

    def publisher_count(self, topic):
        """Publishers matched with the recorder's subscription to `topic`."""
        return self._subs[topic].get_publisher_count()

    def stop(self):
        """Stop writing (call from the executor thread, or after spinning has ended)."""
        self.stopped = True


def bag_qos_profiles(transient_local=()):
    """Per-topic QoS records to store in the bag's metadata for `ros2 bag play`."""
    return {topic: bag_qos(transient_local=True) for topic in transient_local}
