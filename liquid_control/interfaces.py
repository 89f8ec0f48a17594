"""The ROS 2 names liquid_control speaks: message types, the standard topics, frames.

Plain data, a stamp conversion and one lazy lookup (`message_class`); importing this module
imports no ROS code.
Topic names are relative, so a node's namespace applies to them (`/clock` and `/diagnostics`
are absolute, as ROS tools expect).
"""
from __future__ import annotations

import importlib

# Message types, by their canonical ROS 2 names.
CLOCK_TYPE = 'rosgraph_msgs/msg/Clock'
JOINT_STATE = 'sensor_msgs/msg/JointState'
IMU = 'sensor_msgs/msg/Imu'
ODOMETRY = 'nav_msgs/msg/Odometry'
PATH = 'nav_msgs/msg/Path'
FLOAT64_ARRAY = 'std_msgs/msg/Float64MultiArray'
TWIST = 'geometry_msgs/msg/Twist'
TWIST_STAMPED = 'geometry_msgs/msg/TwistStamped'
DIAGNOSTIC_ARRAY = 'diagnostic_msgs/msg/DiagnosticArray'

# The fields of a geometry_msgs/Twist, as action names of a Twist command.
TWIST_FIELDS = ('linear.x', 'linear.y', 'linear.z', 'angular.x', 'angular.y', 'angular.z')

# Topics as ros2_control, Nav2 and a Gazebo + ros_gz_bridge setup name them.
CLOCK = '/clock'
DIAGNOSTICS = '/diagnostics'
JOINT_STATES = 'joint_states'                 # joint_state_broadcaster
EFFORT_COMMANDS = 'effort_controller/commands'  # JointGroupEffortController
ODOM = 'odom'
PLAN = 'plan'                                 # Nav2's planner output
CMD_VEL = 'cmd_vel'

# Frames of planar odometry (REP 105).
ODOM_FRAME = 'odom'
BASE_FRAME = 'base_link'

# Names of the nodes' diagnostic statuses (DiagnosticStatus.name), as recordings find them.
SIM_STATUS_NAME = 'liquid_sim: simulation'
CONTROLLER_STATUS_SUFFIX = 'control loop'


def canonical_type(name):
    """'sensor_msgs/JointState' or 'sensor_msgs/msg/JointState' -> 'sensor_msgs/msg/JointState'."""
    parts = str(name).strip().split('/')
    if len(parts) == 2 and all(parts):
        return f'{parts[0]}/msg/{parts[1]}'
    return '/'.join(parts)


def absolute(topic):
    """A relative topic name as a node in the root namespace resolves it."""
    return topic if topic.startswith('/') else '/' + topic


def stamp_to_ns(stamp):
    """A builtin_interfaces/Time (header.stamp, /clock) -> integer nanoseconds."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def message_class(type_name):
    """'sensor_msgs/msg/JointState' -> the rclpy message class (imports its package)."""
    package, kind, name = canonical_type(type_name).split('/')
    return getattr(importlib.import_module(f'{package}.{kind}'), name)
