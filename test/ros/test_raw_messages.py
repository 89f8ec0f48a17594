"""The node's decoders of serialized JointState and Odometry against rclpy's own
deserialisation: random messages serialized by rclpy read back field for field, messages cut
short or not CDR at all are refused with ValueError, and big-endian CDR reads the same."""
import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip('rclpy')

from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry, Path
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import JointState

from liquid_control.control.observations import path_xy
from liquid_control.control.actions import message_builder
from liquid_control.control.raw_messages import (JointStateView, OdometryView, PathView,
                                                 raw_decoder, raw_encoder)
from liquid_control.interfaces import (FLOAT64_ARRAY, JOINT_STATE, ODOMETRY, PATH, TWIST,
                                       TWIST_FIELDS, TWIST_STAMPED, message_class)

doubles = st.floats(allow_nan=True, allow_infinity=True, width=64)
names = st.text(st.characters(blacklist_categories=('Cs',), blacklist_characters='\x00'),
                max_size=12)
stamps = st.tuples(st.integers(-2**31, 2**31 - 1), st.integers(0, 2**32 - 1))


def same(a, b):
    """Equal floats, NaN equal to NaN (bit patterns aside)."""
    return len(a) == len(b) and all(x == y or (math.isnan(x) and math.isnan(y))
                                    for x, y in zip(a, b))


@st.composite
def joint_states(draw):
    n = draw(st.integers(0, 6))
    msg = JointState()
    msg.header.stamp.sec, msg.header.stamp.nanosec = draw(stamps)
    msg.header.frame_id = draw(names)
    msg.name = draw(st.lists(names, min_size=n, max_size=n))
    for field in ('position', 'velocity', 'effort'):
        setattr(msg, field, draw(st.lists(doubles, max_size=n)))
    return msg


@st.composite
def odometries(draw):
    msg = Odometry()
    msg.header.stamp.sec, msg.header.stamp.nanosec = draw(stamps)
    msg.header.frame_id, msg.child_frame_id = draw(names), draw(names)
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    p.x, p.y, p.z, q.x, q.y, q.z, q.w = draw(st.lists(doubles, min_size=7, max_size=7))
    t = msg.twist.twist
    (t.linear.x, t.linear.y, t.linear.z, t.angular.x, t.angular.y,
     t.angular.z) = draw(st.lists(doubles, min_size=6, max_size=6))
    msg.pose.covariance = draw(st.lists(doubles, min_size=36, max_size=36))
    msg.twist.covariance = draw(st.lists(doubles, min_size=36, max_size=36))
    return msg


@st.composite
def paths(draw):
    msg = Path()
    msg.header.stamp.sec, msg.header.stamp.nanosec = draw(stamps)
    msg.header.frame_id = draw(names)
    for _ in range(draw(st.integers(0, 8))):
        pose = PoseStamped()
        pose.header.stamp.sec, pose.header.stamp.nanosec = draw(stamps)
        pose.header.frame_id = draw(names)
        p, q = pose.pose.position, pose.pose.orientation
        p.x, p.y, p.z, q.x, q.y, q.z, q.w = draw(st.lists(doubles, min_size=7, max_size=7))
        msg.poses.append(pose)
    return msg


def same_header(view, msg):
    return (view.header.stamp.sec, view.header.stamp.nanosec, view.header.frame_id) == (
        msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id)


VIEWS = {JointState: JointStateView, Odometry: OdometryView, Path: PathView}


def read_both(msg):
    """(the node's view, rclpy's message) of `msg` serialized by rclpy."""
    data = serialize_message(msg)
    return VIEWS[type(msg)](data), deserialize_message(data, type(msg))


def odometry_values(msg):
    p, t = msg.pose.pose, msg.twist.twist
    return [p.position.x, p.position.y, p.position.z, p.orientation.x, p.orientation.y,
            p.orientation.z, p.orientation.w, t.linear.x, t.linear.y, t.linear.z, t.angular.x,
            t.angular.y, t.angular.z]


@given(joint_states())
@settings(max_examples=300, deadline=None)
def test_joint_states_read_as_rclpy_reads_them(msg):
    view, reference = read_both(msg)
    assert same_header(view, reference)
    assert list(view.name) == list(reference.name) == list(msg.name)
    for field in ('position', 'velocity', 'effort'):
        assert same(getattr(view, field), getattr(reference, field)), field


@given(odometries())
@settings(max_examples=300, deadline=None)
def test_odometry_reads_as_rclpy_reads_it(msg):
    view, ref = read_both(msg)
    assert same_header(view, ref) and view.child_frame_id == ref.child_frame_id
    assert same(odometry_values(view), odometry_values(ref))
    assert same(view.pose.covariance, ref.pose.covariance)
    assert same(view.twist.covariance, ref.twist.covariance)


@given(paths())
@settings(max_examples=200, deadline=None)
def test_paths_read_as_rclpy_reads_them(msg):
    view, ref = read_both(msg)
    assert same_header(view, ref)
    assert view.xy.shape == (len(ref.poses), 2) and view.xy.dtype == np.float64
    assert same(view.xy.ravel().tolist(), path_xy(ref).ravel().tolist())
    assert path_xy(view) is view.xy


@given(st.one_of(joint_states(), odometries(), paths()), st.data())
@settings(max_examples=200, deadline=None)
def test_a_message_cut_short_is_refused_with_value_error(msg, data):
    serialized = serialize_message(msg)
    decode = VIEWS[type(msg)]
    length = _payload_length(decode, serialized)
    cut = data.draw(st.integers(0, length - 1))
    with pytest.raises(ValueError):
        decode(serialized[:cut])


def _payload_length(decode, serialized):
    """The shortest prefix that still decodes (serialize_message pads the end)."""
    for end in range(len(serialized) + 1):
        try:
            decode(serialized[:end])
            return end
        except ValueError:
            continue
    raise AssertionError('the whole message does not decode')


@pytest.mark.parametrize('data', [b'', b'\x00', b'\x00\x07\x00\x00' + bytes(40),
                                  b'\x00\x01\x00\x00' + b'\x00' * 12 + b'\xff\xff\xff\x7f'])
def test_bytes_that_are_not_a_message_are_refused(data):
    for decode in VIEWS.values():
        with pytest.raises(ValueError):
            decode(data)


def big_endian_joint_state(sec, nanosec, frame, joints, position):
    """JointState in big-endian CDR, written by hand (alignment from the payload start)."""
    out = bytearray(b'\x00\x00\x00\x00')

    def put(fmt, *values):
        size = struct.calcsize('>' + fmt[-1])
        out.extend(b'\x00' * (-(len(out) - 4) % size))
        out.extend(struct.pack('>' + fmt, *values))

    def text(s):
        raw = s.encode() + b'\x00'
        put('I', len(raw))
        out.extend(raw)

    put('i', sec)
    put('I', nanosec)
    text(frame)
    put('I', len(joints))
    for j in joints:
        text(j)
    put('I', len(position))
    put(f'{len(position)}d', *position)
    put('I', 0)
    put('I', 0)
    return bytes(out)


def test_a_path_claiming_more_poses_than_its_bytes_hold_is_refused_before_allocating():
    data = bytearray(serialize_message(Path()))
    data[20:24] = struct.pack('<I', 2**32 - 1)       # the pose count, after an empty frame_id
    with pytest.raises(ValueError, match='4294967295 poses cannot fit'):
        PathView(bytes(data))


def test_big_endian_cdr_reads_the_same():
    view = JointStateView(big_endian_joint_state(7, 9, 'base', ['a', 'bcd'], [1.5, -2.25]))
    assert (view.header.stamp.sec, view.header.stamp.nanosec, view.header.frame_id) == \
        (7, 9, 'base')
    assert (view.name, view.position, view.velocity, view.effort) == \
        (['a', 'bcd'], (1.5, -2.25), (), ())


def test_decoders_exist_for_the_fixed_layouts_only():
    assert raw_decoder(JOINT_STATE) is JointStateView
    assert raw_decoder(ODOMETRY) is OdometryView
    assert raw_decoder(PATH) is PathView
    assert raw_decoder(FLOAT64_ARRAY) is None


def test_each_refusal_says_what_is_wrong():
    def refusal(view, data):
        with pytest.raises(ValueError) as error:
            view(data)
        return str(error.value)

    assert refusal(JointStateView, b'\x00\x07\x00\x00' + bytes(40)) == \
        'not a CDR-encoded message (unknown encapsulation header)'
    assert refusal(JointStateView, b'\x00\x01\x00') == \
        'not a CDR-encoded message (unknown encapsulation header)'
    # The header alone is a CDR message: it is then too short for a JointState.
    assert refusal(JointStateView, b'\x00\x01\x00\x00') == \
        'message ends at byte 4, 12 byte(s) short'
    data = serialize_message(JointState())
    assert refusal(JointStateView, data[:14]) == 'message ends at byte 14, 2 byte(s) short'
    # A string's length must cover its terminating NUL, which must be there.
    frame = bytearray(serialize_message(JointState()))
    frame[12:16] = struct.pack('<I', 0)
    assert refusal(JointStateView, bytes(frame)) == 'malformed string in message'
    frame[12:16] = struct.pack('<I', 1)
    frame[16] = ord('x')
    assert refusal(JointStateView, bytes(frame)) == 'malformed string in message'


def test_a_message_cut_right_after_a_string_fails_on_what_follows():
    msg = JointState()
    msg.header.frame_id = 'base'
    data = serialize_message(msg)
    cut = data[:4 + 8 + 4 + 5]            # encapsulation, stamp, length, 'base' and its NUL
    with pytest.raises(ValueError, match='message ends at byte 21, '):
        JointStateView(cut)


def test_a_path_claiming_one_pose_too_many_is_refused_by_its_count():
    path = Path()
    path.header.frame_id = 'map' * 60          # the count sits far into the message
    path.poses = [PoseStamped() for _ in range(3)]
    data = bytearray(serialize_message(path))
    at = data.index(struct.pack('<I', 3), 16 + len(path.header.frame_id))
    data[at:at + 4] = struct.pack('<I', 4)
    with pytest.raises(ValueError, match=r'^4 poses cannot fit in a message of \d+ bytes$'):
        PathView(bytes(data))


def test_a_name_that_is_not_utf8_is_read_with_replacement_characters():
    data = bytearray(big_endian_joint_state(0, 0, '', ['ab'], [1.0]))
    at = data.index(b'ab\x00')
    data[at:at + 2] = b'\xffb'
    assert JointStateView(bytes(data)).name == ['\ufffdb']


@given(st.lists(doubles, min_size=1, max_size=8))
@settings(max_examples=200, deadline=None)
def test_float64_array_commands_are_written_as_rclpy_reads_them(values):
    names = [f'a{i}' for i in range(len(values))]
    data = raw_encoder(FLOAT64_ARRAY, names)(np.array(values))
    msg = deserialize_message(data, message_class(FLOAT64_ARRAY))
    built = message_builder(FLOAT64_ARRAY, names, message_class(FLOAT64_ARRAY))(values)
    assert same(list(msg.data), list(built.data)) and same(list(msg.data), values)
    assert (list(msg.layout.dim), msg.layout.data_offset) == ([], 0)
    # Byte for byte what rclpy writes, but for the padding (its content is unspecified).
    reference = serialize_message(built)
    assert len(data) == len(reference)
    assert data[:16] == reference[:16] and data[20:] == reference[20:]


@given(st.permutations(TWIST_FIELDS).flatmap(
    lambda fields: st.tuples(st.just(fields[:3]), st.lists(doubles, min_size=3, max_size=3))))
@settings(max_examples=200, deadline=None)
def test_twist_commands_are_written_as_rclpy_reads_them(case):
    names, values = case
    data = raw_encoder(TWIST, names)(np.array(values))
    msg = deserialize_message(data, message_class(TWIST))
    built = message_builder(TWIST, names, message_class(TWIST))(values)
    assert data == serialize_message(built)
    got = {f'{part}.{axis}': getattr(getattr(msg, part), axis)
           for part, axis in (name.split('.') for name in TWIST_FIELDS)}
    assert same([got[n] for n in names], values)
    assert all(got[n] == 0.0 for n in TWIST_FIELDS if n not in names)


def test_a_stamped_twist_has_no_encoder():
    assert raw_encoder(TWIST_STAMPED, ['linear.x']) is None
