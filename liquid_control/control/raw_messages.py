"""Serialized messages read and written without rclpy's Python message conversion.

Taking a sensor_msgs/JointState the usual way costs tens of microseconds per message, most of
it building Python objects for fields the controller never reads; the model step it feeds
costs about as much, and a nav_msgs/Path costs that per pose. For the fixed layouts of
JointState, nav_msgs/Odometry and nav_msgs/Path the node takes the serialized bytes (CDR, as
every ROS 2 middleware puts them on the wire) and reads just the values with `struct`. The
views returned have the attributes the extractors read (`name`, `position`, ...,
`header.frame_id`, `pose.pose.position.x`, ...; a path's positions as `xy`), so observation
code runs unchanged on either. Other message types keep rclpy's deserialisation.

A view decodes its bytes when it is made; bytes that do not hold a whole message raise
ValueError, which the observation source counts as an unreadable message.

The command goes out the same way: `raw_encoder` packs a std_msgs/Float64MultiArray (empty
layout) or a geometry_msgs/Twist straight into CDR bytes, which rclpy publishes as they are
(a few microseconds less per tick than filling and converting a message object).
"""
from __future__ import annotations

import struct

import numpy as np

from liquid_control.interfaces import (FLOAT64_ARRAY, JOINT_STATE, ODOMETRY, PATH, TWIST,
                                       TWIST_FIELDS)

_CDR_LE = b'\x00\x01\x00\x00'                             # encapsulation: CDR little endian
_ENCAPSULATIONS = {b'\x00\x01': '<', b'\x00\x00': '>'}     # CDR little / big endian
_HEADER_SIZE = 4                                           # encapsulation id + options
_STRUCTS = {order: (struct.Struct(order + 'I'), struct.Struct(order + 'i'))
            for order in _ENCAPSULATIONS.values()}


class _Reader:
    """Reads CDR values in order; alignment counts from the end of the encapsulation."""

    __slots__ = ('data', 'pos', 'size', 'order', '_u32', '_i32')

    def __init__(self, data):
        if len(data) < _HEADER_SIZE or data[:2] not in _ENCAPSULATIONS:
            raise ValueError('not a CDR-encoded message (unknown encapsulation header)')
        self.data, self.pos, self.size = data, _HEADER_SIZE, len(data)
        self.order = _ENCAPSULATIONS[data[:2]]
        self._u32, self._i32 = _STRUCTS[self.order]

    def _need(self, end):
        if end > self.size:
            raise ValueError(f'message ends at byte {self.size}, {end - self.size} byte(s) '
                             'short')

    def _at4(self):
        """The position of the next 4-byte value (aligned), checked to be in the message."""
        pos = self.pos + (-self.pos & 3)      # the header's 4 bytes keep 4-byte alignment
        self._need(pos + 4)
        self.pos = pos + 4
        return pos

    def uint32(self):
        return self._u32.unpack_from(self.data, self._at4())[0]

    def int32(self):
        return self._i32.unpack_from(self.data, self._at4())[0]

    def doubles(self, count):
        if count == 0:
            return ()       # no element, no padding: a message may end before it
        pos = self.pos + (-(self.pos - _HEADER_SIZE) & 7)
        end = pos + 8 * count
        self._need(end)
        self.pos = end
        return struct.unpack_from(f'{self.order}{count}d', self.data, pos)

    def double_sequence(self):
        return self.doubles(self.uint32())

    def string(self):
        length = self.uint32()          # including the terminating NUL
        start = self.pos
        end = start + length
        if length == 0 or end > self.size or self.data[end - 1] != 0:
            raise ValueError('malformed string in message')
        self.pos = end
        return self.data[start:end - 1].decode('utf-8', errors='replace')

    def string_sequence(self):
        return [self.string() for _ in range(self.uint32())]


class _Fields:
    """Attribute holder for the nested parts of a view (position, orientation, ...)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def _header(reader):
    stamp = _Fields(sec=reader.int32(), nanosec=reader.uint32())
    return _Fields(stamp=stamp, frame_id=reader.string())


def _skip_header(reader):
    reader.pos = _HEADER_SIZE + 8          # past the stamp: its fields are 4-byte aligned
    reader.string()


def _xyz(values):
    return _Fields(x=values[0], y=values[1], z=values[2])


class JointStateView:
    """sensor_msgs/JointState from its serialized bytes."""

    __slots__ = ('_data', 'name', 'position', 'velocity', 'effort')

    def __init__(self, data):
        reader = _Reader(data)
        self._data = data
        _skip_header(reader)        # controllers read joints by name, not the header
        self.name = reader.string_sequence()
        self.position = reader.double_sequence()
        self.velocity = reader.double_sequence()
        self.effort = reader.double_sequence()

    @property
    def header(self):
        return _header(_Reader(self._data))


class OdometryView:
    """nav_msgs/Odometry from its serialized bytes (covariances skipped)."""

    __slots__ = ('header', 'child_frame_id', 'pose', 'twist')

    def __init__(self, data):
        reader = _Reader(data)
        self.header = _header(reader)
        self.child_frame_id = reader.string()
        p = reader.doubles(7 + 36)
        orientation = _Fields(x=p[3], y=p[4], z=p[5], w=p[6])
        self.pose = _Fields(pose=_Fields(position=_xyz(p[0:3]), orientation=orientation),
                            covariance=p[7:])
        t = reader.doubles(6 + 36)
        self.twist = _Fields(twist=_Fields(linear=_xyz(t[0:3]), angular=_xyz(t[3:6])),
                             covariance=t[6:])


# A PoseStamped takes at least: stamp 8, frame_id length 4 and NUL 1, 7 doubles 56.
_MIN_POSE_BYTES = 69


class PathView:
    """nav_msgs/Path from its serialized bytes: the header and `xy`, an (N, 2) array of the
    poses' positions (what path following reads; the poses' own headers and orientations
    are skipped)."""

    __slots__ = ('header', 'xy')

    def __init__(self, data):
        reader = _Reader(data)
        self.header = _header(reader)
        count = reader.uint32()
        if count * _MIN_POSE_BYTES > reader.size - reader.pos:
            raise ValueError(f'{count} poses cannot fit in a message of {reader.size} bytes')
        xy = np.empty((count, 2))
        for i in range(count):
            # Each pose starts 4-aligned (after the count, or after 8-byte doubles): skip its
            # stamp, read past its frame_id, then its position and orientation.
            reader.pos += 8
            reader.string()
            xy[i] = reader.doubles(7)[:2]
        self.xy = xy


DECODERS = {JOINT_STATE: JointStateView, ODOMETRY: OdometryView, PATH: PathView}


def raw_decoder(msg_type):
    """A function serialized bytes -> message view for `msg_type`, or None when the type
    has no fast decoder (take it deserialised)."""
    return DECODERS.get(msg_type)


def raw_encoder(msg_type, names):
    """A function command values -> serialized bytes of `msg_type` (what
    actions.message_builder's message serializes to), or None for a type without one
    (TwistStamped: its stamp is taken at each call; build the message)."""
    n = len(names)
    if msg_type == FLOAT64_ARRAY:
        # layout.dim (empty sequence), layout.data_offset, data (sequence of n doubles,
        # aligned to 8 from the end of the encapsulation: 4 bytes of padding).
        packer = struct.Struct(f'<4sIII4x{n}d')
        return lambda command: packer.pack(_CDR_LE, 0, 0, n, *command)
    if msg_type == TWIST:
        slots = [TWIST_FIELDS.index(name) for name in names]     # the order on the wire
        packer = struct.Struct('<4s6d')

        def encode(command):
            fields = [0.0] * 6
            for slot, value in zip(slots, command):
                fields[slot] = value
            return packer.pack(_CDR_LE, *fields)
        return encode
    return None
