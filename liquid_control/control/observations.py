"""Observation assembly: sensor messages -> the named values the model reads.

Each source turns its messages into a float64 vector of its fields (`on_message`: extract,
check, store the latest with its reception time; nothing else), and
`ObservationLayout.gather` copies the latest vectors of all sources into the model's
observation buffer at each tick. A message that lacks a selected value or holds a non-finite
one is rejected and counted; it never reaches the model and does not count as fresh data.

ROS-free: extractors read ROS messages by attribute, so anything shaped like
sensor_msgs/JointState, sensor_msgs/Imu, nav_msgs/Odometry, nav_msgs/Path or
std_msgs/Float64MultiArray works.
"""
from __future__ import annotations

import math
import threading
from operator import attrgetter

import numpy as np

from liquid_control.interfaces import FLOAT64_ARRAY, IMU, JOINT_STATE, ODOMETRY

from .params import ConfigError, mismatch_message
from .path_features import FEATURES as PATH_FEATURES
from .path_features import PathTracker

JOINT_ATTRS = ('position', 'velocity', 'effort')
_XYZ = ('x', 'y', 'z')
_QUAT = ('x', 'y', 'z', 'w')
EULER = ('roll', 'pitch', 'yaw')
FLOAT32_MAX = float(np.finfo(np.float32).max)

IMU_SELECTORS = {
    **{f'orientation.{a}': f'orientation.{a}' for a in _QUAT},
    **{f'angular_velocity.{a}': f'angular_velocity.{a}' for a in _XYZ},
    **{f'linear_acceleration.{a}': f'linear_acceleration.{a}' for a in _XYZ},
}
ODOMETRY_SELECTORS = {
    **{f'pose.position.{a}': f'pose.pose.position.{a}' for a in _XYZ},
    **{f'pose.orientation.{a}': f'pose.pose.orientation.{a}' for a in _QUAT},
    **{f'twist.linear.{a}': f'twist.twist.linear.{a}' for a in _XYZ},
    **{f'twist.angular.{a}': f'twist.twist.angular.{a}' for a in _XYZ},
}


class Rejected(ValueError):
    """A message the node will not use; the text says why."""


def quaternion_to_euler(x, y, z, w):
    """(roll, pitch, yaw) in radians of a unit quaternion (ZYX convention, as tf2)."""
    sinr = 2.0 * (w * x + y * z)
    cosr = 1.0 - 2.0 * (x * x + y * y)
    sinp = 2.0 * (w * y - z * x)
    siny = 2.0 * (w * z + x * y)
    cosy = 1.0 - 2.0 * (y * y + z * z)
    pitch = math.copysign(math.pi / 2.0, sinp) if abs(sinp) >= 1.0 else math.asin(sinp)
    return math.atan2(sinr, cosr), pitch, math.atan2(siny, cosy)


def unit_quaternion(q):
    """(x, y, z, w) of a geometry_msgs Quaternion, normalised; Rejected if a component is
    not finite or the quaternion has no length (it then names no orientation)."""
    x, y, z, w = q.x, q.y, q.z, q.w
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    if not math.isfinite(norm):
        raise Rejected(f'non-finite orientation quaternion ({x}, {y}, {z}, {w})')
    if norm < 1e-9:
        raise Rejected('zero orientation quaternion')
    return x / norm, y / norm, z / norm, w / norm


def _check_finite(values, selectors):
    """Rejected unless every value is finite and representable as float32 (the model's type:
    a larger magnitude would become inf inside the graph)."""
    if not (np.abs(values) <= FLOAT32_MAX).all():
        bad = [s for s, v in zip(selectors, values) if not abs(v) <= FLOAT32_MAX]
        kind = 'non-finite' if any(not math.isfinite(v) for v in values) else 'out-of-range'
        raise Rejected(f'{kind} value in {", ".join(bad)}')


class JointStateExtractor:
    """Fields `<joint>.position|velocity|effort`, looked up by joint name in each message
    (any order, extra joints ignored)."""

    def __init__(self, selectors):
        self.selectors = tuple(selectors)
        self._joints, self._attrs = [], []
        for s in self.selectors:
            joint, _, attr = s.rpartition('.')
            if not joint or attr not in JOINT_ATTRS:
                raise ConfigError(f'{s!r} is not a JointState selector: use '
                                  f'<joint name>.{"|".join(JOINT_ATTRS)}')
            self._joints.append(joint)
            self._attrs.append(attr)
        self._cached_names = None
        self._cached_index = None

    def _index(self, names):
        if names == self._cached_names:
            return self._cached_index
        positions = {}
        for i, name in enumerate(names):
            if name in positions:
                raise Rejected(f'joint {name!r} appears twice in the message')
            positions[name] = i
        missing = [j for j in dict.fromkeys(self._joints) if j not in positions]
        if missing:
            raise Rejected(f'joint(s) {", ".join(missing)} missing (message has '
                           f'{", ".join(names) or "no joints"})')
        self._cached_index = [positions[j] for j in self._joints]
        self._cached_names = list(names)
        return self._cached_index

    def __call__(self, msg):
        names = list(msg.name)
        index = self._index(names)
        out = np.empty(len(index))
        for k, (i, attr) in enumerate(zip(index, self._attrs)):
            values = getattr(msg, attr)
            if i >= len(values):
                raise Rejected(f'{attr} has {len(values)} value(s) for {len(names)} joints')
            out[k] = values[i]
        _check_finite(out, self.selectors)
        return out


class AttributeExtractor:
    """Fields read by attribute path (Imu, Odometry), plus roll/pitch/yaw of its
    orientation quaternion."""

    def __init__(self, selectors, table, orientation_path, type_name):
        self.selectors = tuple(selectors)
        self._getters = []
        self._euler = None
        for s in self.selectors:
            if s in table:
                self._getters.append(attrgetter(table[s]))
            elif s in EULER:
                self._getters.append(EULER.index(s))
                self._euler = attrgetter(orientation_path)
            else:
                raise ConfigError(f'{s!r} is not a {type_name} selector: use one of '
                                  f'{", ".join(list(table) + list(EULER))}')

    def __call__(self, msg):
        euler = None
        if self._euler is not None:
            euler = quaternion_to_euler(*unit_quaternion(self._euler(msg)))
        out = np.array([euler[g] if isinstance(g, int) else g(msg) for g in self._getters],
                       dtype=np.float64)
        _check_finite(out, self.selectors)
        return out


class ArrayExtractor:
    """Fields `data.<index>` of a Float64MultiArray."""

    def __init__(self, selectors):
        self.selectors = tuple(selectors)
        self._index = []
        for s in self.selectors:
            head, _, idx = s.partition('.')
            if head != 'data' or not idx.isdigit():
                raise ConfigError(f'{s!r} is not a Float64MultiArray selector: use data.<index> '
                                  '(e.g. data.0), naming the field with the fields parameter')
            self._index.append(int(idx))
        self._needed = max(self._index) + 1

    def __call__(self, msg):
        data = msg.data
        if len(data) < self._needed:
            raise Rejected(f'data has {len(data)} value(s), {self._needed} needed')
        out = np.array([data[i] for i in self._index], dtype=np.float64)
        _check_finite(out, self.selectors)
        return out


def path_xy(msg):
    """nav_msgs/Path (or a raw_messages.PathView, which has them as `xy`) -> (N, 2) array
    of x, y."""
    xy = getattr(msg, 'xy', None)
    if xy is not None:
        return xy
    return np.array([(p.pose.position.x, p.pose.position.y) for p in msg.poses],
                    dtype=np.float64).reshape(-1, 2)


class PathOdometryExtractor:
    """Odometry selectors plus the path-relative features of PATH_FEATURES, computed by
    liquid_control.control.path_features against the latest nav_msgs/Path."""

    def __init__(self, selectors):
        self.selectors = tuple(selectors)
        raw = [s for s in self.selectors if s not in PATH_FEATURES]
        self._raw = AttributeExtractor(raw, ODOMETRY_SELECTORS, 'pose.pose.orientation',
                                       'Odometry') if raw else None
        self._plan = [('path', PATH_FEATURES.index(s)) if s in PATH_FEATURES
                      else ('raw', raw.index(s)) for s in self.selectors]
        self.tracker = None        # set by set_path (subscription thread)
        self.path_frame = ''

    def set_path(self, msg):
        """A new path: validate it and restart tracking from its start. The same path again
        (planners and simulators republish it) keeps the progress made along it: restarting
        would search for the robot near the path's start. Raises Rejected."""
        xy = path_xy(msg)
        current = self.tracker
        if current is not None and msg.header.frame_id == self.path_frame and \
                current.same_path(xy):
            return
        try:
            tracker = PathTracker(xy)
        except ValueError as exc:
            raise Rejected(f'unusable path: {exc}') from None
        self.path_frame = msg.header.frame_id
        self.tracker = tracker

    def __call__(self, msg):
        tracker = self.tracker
        if tracker is None:
            raise WaitingForPath()
        frame = msg.header.frame_id
        if frame and self.path_frame and frame != self.path_frame:
            raise Rejected(f'odometry is in frame {frame!r}, the path in '
                           f'{self.path_frame!r}: both must be in the same frame')
        pose = msg.pose.pose
        yaw = quaternion_to_euler(*unit_quaternion(pose.orientation))[2]
        twist = msg.twist.twist
        inputs = np.array((pose.position.x, pose.position.y, yaw, twist.linear.x,
                           twist.angular.z))
        if not np.isfinite(inputs).all():
            raise Rejected('non-finite pose or twist in odometry')
        features = tracker.features(inputs[:2], yaw, inputs[3], inputs[4])
        raw = self._raw(msg) if self._raw is not None else ()
        out = np.array([features[i] if kind == 'path' else raw[i] for kind, i in self._plan])
        _check_finite(out, self.selectors)
        return out


class WaitingForPath(Exception):
    """Odometry arrived before any path: not an error, but no observation yet."""


def make_extractor(msg_type, selectors, with_path=False):
    """The extractor for one source; ConfigError for selectors the type cannot give."""
    if msg_type == JOINT_STATE:
        return JointStateExtractor(selectors)
    if msg_type == IMU:
        return AttributeExtractor(selectors, IMU_SELECTORS, 'orientation', 'Imu')
    if msg_type == ODOMETRY:
        if with_path:
            return PathOdometryExtractor(selectors)
        features = [s for s in selectors if s in PATH_FEATURES]
        if features:
            raise ConfigError(f'{", ".join(features)} need a path: set path_topic on this '
                              'Odometry source')
        return AttributeExtractor(selectors, ODOMETRY_SELECTORS, 'pose.pose.orientation',
                                  'Odometry')
    if msg_type == FLOAT64_ARRAY:
        return ArrayExtractor(selectors)
    raise ConfigError(f'unsupported observation message type {msg_type!r}')


class ObservationSource:
    """One subscribed topic: its extractor, the latest good values and when they came.

    The node feeds it from the control loop thread (it takes the sensor messages itself just
    before each tick); path messages come from the executor thread. `latest` is replaced
    whole (one reference assignment), so readers see a consistent (values, time) pair.
    """

    def __init__(self, config, now_ns):
        self.config = config
        self.extract = make_extractor(config.msg_type, config.select, bool(config.path_topic))
        self._now_ns = now_ns
        self.latest = None          # (values float64 array, receipt time ns)
        self.received = 0
        self.rejected = 0
        self.last_rejection = ''
        self.topic = config.topic             # resolved names once subscribed
        self.path_topic = config.path_topic
        self.waiting_for = f'no message yet on {config.topic}'
        self._lock = threading.Lock()   # counters are written by one thread, read by others

    @property
    def name(self):
        return self.config.name

    def set_topic_names(self, topic, path_topic=''):
        """The fully resolved topic names (namespace applied), for messages."""
        self.topic, self.path_topic = topic, path_topic or self.config.path_topic
        if self.latest is None and self.received == 0:
            self.waiting_for = f'no message yet on {topic}'

    @property
    def fields(self):
        return self.config.fields

    def on_message(self, msg, received_ns=None, decode=None):
        """Extract, check, keep the latest. Never raises.

        received_ns: when the message arrived, on the clock of `now_ns` (default: now).
        decode: for a message taken serialized, what reads it (raw_messages.raw_decoder).
        """
        try:
            values = self.extract(msg if decode is None else decode(msg))
        except WaitingForPath:
            self.waiting_for = f'no path yet on {self.path_topic}'
            return
        except Rejected as exc:
            self._reject(f'{self.topic}: {exc}')
            return
        except Exception as exc:  # a malformed message must never take the node down
            self._reject(f'{self.topic}: unreadable message ({type(exc).__name__}: {exc})')
            return
        self.latest = (values, self._now_ns() if received_ns is None else received_ns)
        self.received += 1

    def on_path(self, msg, decode=None):
        """Path subscription callback (Odometry sources with path_topic). Never raises.
        decode: for a path taken serialized, what reads it (raw_messages.raw_decoder)."""
        try:
            self.extract.set_path(msg if decode is None else decode(msg))
        except Rejected as exc:
            # Without a valid path there is nothing to follow: the old path is dropped so
            # the watchdog stops the robot instead of following a path the planner replaced.
            self.extract.tracker = None
            self.latest = None
            self.waiting_for = f'no usable path on {self.path_topic}'
            self._reject(f'{self.path_topic}: {exc}')
        except Exception as exc:
            self.extract.tracker = None
            self.latest = None
            self._reject(f'{self.path_topic}: unreadable path ({type(exc).__name__})')

    def _reject(self, reason):
        with self._lock:
            self.rejected += 1
            self.last_rejection = reason

    def clear(self):
        """Forget the latest values (a new activation starts from fresh data only)."""
        self.latest = None


class ObservationLayout:
    """All sources in order; their fields concatenated are the observation vector."""

    def __init__(self, sources):
        self.sources = tuple(sources)
        self.names = tuple(n for s in self.sources for n in s.fields)
        self._slices = []
        start = 0
        for s in self.sources:
            self._slices.append(slice(start, start + len(s.fields)))
            start += len(s.fields)

    def check_model(self, model_obs_names, model_path):
        """ConfigError, with both lists, unless the model reads exactly these names."""
        if tuple(model_obs_names) != self.names:
            raise ConfigError(mismatch_message('observation', self.names, model_obs_names,
                                               model_path))

    def gather(self, now_ns, timeout_ns, out):
        """Copy the latest values into `out`; return the sources that are not fresh.

        A source is stale when it has no good message yet, or its latest is older than
        timeout_ns, or was received more than timeout_ns "after" now_ns (time went
        backwards: a simulation reset). A message stored while this tick began is fresh.
        """
        stale = []
        for source, where in zip(self.sources, self._slices):
            latest = source.latest
            if latest is None:
                stale.append(source)
                continue
            values, stamp = latest
            age = now_ns - stamp
            if age > timeout_ns or age < -timeout_ns:
                stale.append(source)
                continue
            out[where] = values
        return stale

    @property
    def rejected(self):
        return sum(s.rejected for s in self.sources)

    @property
    def received(self):
        return sum(s.received for s in self.sources)
