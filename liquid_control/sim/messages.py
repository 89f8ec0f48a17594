"""The simulator's plain data as the ROS 2 messages a Gazebo + ros_gz_bridge setup publishes:
rosgraph_msgs/Clock, sensor_msgs/JointState, nav_msgs/Odometry, nav_msgs/Path,
diagnostic_msgs/DiagnosticArray. Imports the message packages (only sim_node needs this)."""
from __future__ import annotations

import math

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry, Path
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState

from liquid_control.interfaces import SIM_STATUS_NAME

SIM_HARDWARE_ID = 'mujoco'


def to_time(stamp_ns):
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    return Time(sec=sec, nanosec=nanosec)


def clock_msg(stamp_ns):
    return Clock(clock=to_time(stamp_ns))


def joint_state_msg(sample):
    msg = JointState()
    msg.header.stamp = to_time(sample.stamp_ns)
    msg.name = list(sample.names)
    msg.position = [float(v) for v in sample.position]
    msg.velocity = [float(v) for v in sample.velocity]
    msg.effort = [float(v) for v in sample.effort]
    return msg


def _yaw_quaternion(orientation, yaw):
    orientation.x = 0.0
    orientation.y = 0.0
    orientation.z = math.sin(0.5 * yaw)
    orientation.w = math.cos(0.5 * yaw)


def odometry_msg(sample, frame_id, child_frame_id):
    """Planar odometry in frame_id; twist in the body frame (child_frame_id)."""
    msg = Odometry()
    msg.header.stamp = to_time(sample.stamp_ns)
    msg.header.frame_id = frame_id
    msg.child_frame_id = child_frame_id
    msg.pose.pose.position.x = float(sample.x)
    msg.pose.pose.position.y = float(sample.y)
    _yaw_quaternion(msg.pose.pose.orientation, float(sample.yaw))
    pose_cov = np.zeros(36)
    pose_cov[[0, 7, 35]] = sample.position_variance      # x, y, yaw
    twist_cov = np.zeros(36)
    twist_cov[[0, 35]] = sample.velocity_variance        # vx, wz
    msg.pose.covariance = pose_cov.tolist()
    msg.twist.twist.linear.x = float(sample.v)
    msg.twist.twist.angular.z = float(sample.omega)
    msg.twist.covariance = twist_cov.tolist()
    return msg


def path_msg(sample, frame_id):
    """nav_msgs/Path in frame_id, each pose facing along the path."""
    msg = Path()
    msg.header.stamp = to_time(sample.stamp_ns)
    msg.header.frame_id = frame_id
    xy = np.asarray(sample.xy, dtype=np.float64)
    heading = np.arctan2(*np.diff(xy, axis=0).T[::-1]) if len(xy) > 1 else np.zeros(0)
    heading = np.concatenate((heading, heading[-1:])) if len(heading) else np.zeros(len(xy))
    for (x, y), yaw in zip(xy, heading):
        pose = PoseStamped()
        pose.header = msg.header
        pose.pose.position.x = float(x)
        pose.pose.position.y = float(y)
        _yaw_quaternion(pose.pose.orientation, float(yaw))
        msg.poses.append(pose)
    return msg


def _value(value):
    """Plain text of a status or metric value (numpy scalars as Python's, no `np.`)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f'{value:.6g}'
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(_value(v) for v in value) + ']'
    return str(value).lower() if isinstance(value, bool) else str(value)


def metrics_text(metrics):
    """An episode's metrics on one line: `success=true, tracking_error=0.0143, ...`."""
    return ', '.join(f'{key}={_value(value)}' for key, value in metrics.items())


def diagnostics_msg(stamp_ns, status, metrics, level=DiagnosticStatus.OK, message='running'):
    """One DiagnosticStatus with the simulator's counters and the episode metrics (keys
    prefixed `episode.`)."""
    array = DiagnosticArray()
    array.header.stamp = to_time(stamp_ns)
    entry = DiagnosticStatus(level=level, name=SIM_STATUS_NAME, message=message,
                             hardware_id=SIM_HARDWARE_ID)
    entry.values = [KeyValue(key=k, value=_value(v)) for k, v in status.items()]
    entry.values += [KeyValue(key=f'episode.{k}', value=_value(v)) for k, v in metrics.items()]
    array.status = [entry]
    return array
