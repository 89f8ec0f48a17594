"""rosbag2 recordings in MCAP, written and read without ROS (the `rosbags` package).

A bag written here is what `ros2 bag record -s mcap` writes: a directory with metadata.yaml
and one .mcap file whose messages are the CDR bytes as they came off the wire, with the full
message definitions (ROS 2 Kilted) embedded, so `ros2 bag info/play`, Foxglove and PlotJuggler
open it.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from rosbags.interfaces import (Qos, QosDurability, QosHistory, QosLiveliness, QosReliability,
                                QosTime)
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

BAG_VERSION = 9
_NO_TIME = QosTime(0, 0)


def typestore():
    """Message definitions of ROS 2 Kilted (the distribution the node runs on)."""
    return get_typestore(Stores.ROS2_KILTED)


def qos(reliable=True, transient_local=False, depth=10):
    """A rosbags QoS record, stored per topic so `ros2 bag play` offers the same QoS."""
    return Qos(
        history=QosHistory.KEEP_LAST, depth=depth,
        reliability=QosReliability.RELIABLE if reliable else QosReliability.BEST_EFFORT,
        durability=QosDurability.TRANSIENT_LOCAL if transient_local else QosDurability.VOLATILE,
        deadline=_NO_TIME, lifespan=_NO_TIME, liveliness=QosLiveliness.AUTOMATIC,
        liveliness_lease_duration=_NO_TIME, avoid_ros_namespace_conventions=False)


class BagWriter:
    """Writes serialized (CDR) messages of known topics into a new MCAP rosbag2 directory.

    `topics` maps topic -> type name ('sensor_msgs/msg/JointState'); `qos_profiles` optionally
    maps topic -> rosbags Qos. Not thread-safe: call `write` from one thread.
    """

    def __init__(self, path, topics, qos_profiles=None):
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f'{self.path} exists; a bag is written into a new directory')
        self._store = typestore()
        self._writer = Writer(self.path, version=BAG_VERSION,
                              storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        self._connections = {}
        self.counts = Counter()
        qos_profiles = qos_profiles or {}
        for topic, msgtype in topics.items():
            profiles = [qos_profiles[topic]] if topic in qos_profiles else [qos()]
            self._connections[topic] = self._writer.add_connection(
                topic, msgtype, typestore=self._store, offered_qos_profiles=profiles)
        self.closed = False

    @property
    def topics(self):
        return {topic: conn.msgtype for topic, conn in self._connections.items()}

    def write(self, topic, timestamp_ns, data):
        """Store one serialized message received at timestamp_ns (nanoseconds)."""
        if self.closed:
            return
        self._writer.write(self._connections[topic], int(timestamp_ns), bytes(data))
        self.counts[topic] += 1

    def write_message(self, topic, timestamp_ns, msg):
        """Store a rosbags message object (serialized here); for writers without rclpy."""
        msgtype = self._connections[topic].msgtype
        self.write(topic, timestamp_ns, self._store.serialize_cdr(msg, msgtype))

    def close(self):
        if not self.closed:
            self.closed = True
            self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_bag(path, topics=None):
    """Yield (topic, msgtype, timestamp_ns, message) from a rosbag2 bag in stored order.

    Messages are rosbags dataclasses with the ROS field names (msg.header.stamp.sec, ...).
    """
    store = typestore()
    with Reader(Path(path)) as reader:
        conns = [c for c in reader.connections if topics is None or c.topic in topics]
        for conn, timestamp, data in reader.messages(connections=conns):
            yield conn.topic, conn.msgtype, timestamp, store.deserialize_cdr(data, conn.msgtype)


def read_raw(path, topics=None):
    """Yield (topic, timestamp_ns, bytes) as stored, without deserializing."""
    with Reader(Path(path)) as reader:
        conns = [c for c in reader.connections if topics is None or c.topic in topics]
        for conn, timestamp, data in reader.messages(connections=conns):
            yield conn.topic, timestamp, bytes(data)


def bag_info(path):
    """{'duration_s', 'message_count', 'topics': {topic: (type, count)}, 'files'}."""
    path = Path(path)
    with Reader(path) as reader:
        return {
            'duration_s': reader.duration / 1e9 if reader.message_count else 0.0,
            'message_count': reader.message_count,
            'topics': {t: (info.msgtype, info.msgcount) for t, info in reader.topics.items()},
            'files': sorted(p.name for p in path.iterdir() if p.suffix == '.mcap'),
        }
