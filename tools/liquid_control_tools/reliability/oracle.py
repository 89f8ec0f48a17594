"""What the node should do with each fuzzed message, decided independently of its code.

Messages are plain dicts (what the strategies draw, what a failure report prints); `build_*`
turns them into ROS messages. `Oracle` predicts, from the documented behaviour alone, whether
the node must use a message (GOOD), must reject and count it (BAD), must ignore it without
counting (IGNORED: odometry while no usable path is known), or may do either (EITHER: values
so large that whether they overflow inside the node's float32 path geometry is not part of
the contract). The fuzz run compares each prediction with the node's counters.

The rules (docs/node.md and docs/reliability.md):
- JointState: every configured joint present exactly once, no joint name repeated at all,
  position/velocity long enough for those joints, the selected values finite and within
  float32 range. Extra joints, extra array entries, any order, any header stamp: fine.
- Odometry (with a path): position, orientation and speeds finite; the orientation
  quaternion of finite, non-zero length (any length: it is normalised); frames equal when
  both are named.
- Path: at least two distinct finite points; a rejected path drops the previous one.
"""
from __future__ import annotations

import math

import numpy as np

GOOD, BAD, IGNORED, EITHER = 'good', 'bad', 'ignored', 'either'
# Node behaviour that breaks a rule below and is not fixed yet (docs/reliability.md lists
# them with their regression tests in test/ros/test_fuzz_regressions.py). While listed, the
# affected messages are predicted EITHER and counted as `known_bug` instead of failing.
KNOWN_NODE_BUGS = set()
# Fixed: 'odometry-non-finite-quaternion' (an Odometry orientation holding inf was used when
# the yaw computed from it happened to be finite), fixed in observations.unit_quaternion.
FLOAT32_MAX = float(np.finfo(np.float32).max)
CARTPOLE_JOINTS = ('slider_to_cart', 'cart_to_pole')
MODERATE = 1e6           # below this every computation stays far from overflow


def _time(msg_stamp, stamp):
    sec, nanosec = stamp
    msg_stamp.sec, msg_stamp.nanosec = int(sec), int(nanosec)


def build_joint_state(spec):
    from sensor_msgs.msg import JointState
    msg = JointState()
    _time(msg.header.stamp, spec.get('stamp', (0, 0)))
    msg.header.frame_id = spec.get('frame', '')
    msg.name = list(spec['names'])
    msg.position = [float(v) for v in spec['position']]
    msg.velocity = [float(v) for v in spec['velocity']]
    msg.effort = [float(v) for v in spec.get('effort', ())]
    return msg


def build_odometry(spec):
    from nav_msgs.msg import Odometry
    msg = Odometry()
    _time(msg.header.stamp, spec.get('stamp', (0, 0)))
    msg.header.frame_id = spec['frame']
    msg.child_frame_id = spec.get('child_frame', 'base_link')
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    p.x, p.y, p.z = (float(v) for v in spec['position'])
    q.x, q.y, q.z, q.w = (float(v) for v in spec['orientation'])
    msg.twist.twist.linear.x = float(spec['v'])
    msg.twist.twist.angular.z = float(spec['w'])
    msg.twist.twist.linear.y = float(spec.get('vy', 0.0))
    cov = spec.get('covariance')
    if cov is not None:
        msg.pose.covariance = [float(cov)] * 36
    return msg


def build_path(spec):
    from geometry_msgs.msg import PoseStamped
    from nav_msgs.msg import Path
    msg = Path()
    _time(msg.header.stamp, spec.get('stamp', (0, 0)))
    msg.header.frame_id = spec['frame']
    for x, y in spec['points']:
        pose = PoseStamped()
        pose.header.frame_id = spec['frame']
        pose.pose.position.x, pose.pose.position.y = float(x), float(y)
        pose.pose.orientation.w = 1.0
        msg.poses.append(pose)
    return msg


def joint_state_verdict(spec, joints=CARTPOLE_JOINTS, attrs=('position', 'velocity')):
    names = list(spec['names'])
    if len(set(names)) != len(names):
        return BAD
    if any(j not in names for j in joints):
        return BAD
    for attr in attrs:
        values = spec[attr]
        for j in joints:
            i = names.index(j)
            if i >= len(values):
                return BAD
            v = values[i]
            if not (math.isfinite(v) and abs(v) <= FLOAT32_MAX):
                return BAD
    return GOOD


def path_verdict(spec):
    points = spec['points']
    if len(points) < 2:
        return BAD
    flat = [c for p in points for c in p]
    if not all(math.isfinite(c) for c in flat):
        return BAD
    if all(abs(c) < MODERATE for c in flat):
        distinct = any(math.hypot(b[0] - a[0], b[1] - a[1]) > 1e-9
                       for a, b in zip(points, points[1:]))
        return GOOD if distinct else BAD
    return EITHER


class Oracle:
    """Predictions for one node, tracking the path it holds (diff-drive)."""

    def __init__(self, task):
        self.task = task
        self.known_bug_hits = 0
        self.path_frame = None     # frame of the path the node holds; None: no usable path
        self.path_moderate = True

    def message(self, kind, spec):
        if kind == 'joint_state':
            return joint_state_verdict(spec)
        if kind == 'path':
            return path_verdict(spec)
        if kind == 'odometry':
            return self._odometry(spec)
        raise ValueError(kind)

    def path_outcome(self, spec, accepted):
        """Record what the node did with a path (known after the run observes it)."""
        if accepted:
            self.path_frame = spec['frame']
            self.path_moderate = path_verdict(spec) == GOOD
        else:
            self.path_frame = None

    def _odometry(self, spec):
        if self.path_frame is None:
            return IGNORED
        frame = spec['frame']
        if frame and self.path_frame and frame != self.path_frame:
            return BAD
        x, y, _ = spec['position']
        qx, qy, qz, qw = spec['orientation']
        values = (x, y, qx, qy, qz, qw, spec['v'], spec['w'])
        if not all(math.isfinite(v) for v in values):
            pose_and_speeds = (x, y, spec['v'], spec['w'])
            if ('odometry-non-finite-quaternion' in KNOWN_NODE_BUGS
                    and all(math.isfinite(v) for v in pose_and_speeds)):
                self.known_bug_hits += 1
                return EITHER
            return BAD
        norm = math.sqrt(qx * qx + qy * qy + qz * qz + qw * qw)
        if not math.isfinite(norm) or norm < 1e-9:
            return BAD      # no orientation: zero length, or a length beyond float64
        if not self.path_moderate or not all(abs(v) < MODERATE for v in values):
            return EITHER   # overflow inside the geometry is possible: either is safe
        return GOOD
