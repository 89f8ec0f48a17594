"""`python -m liquid_control.nodes.expert_node`: the task's expert controller as a ROS 2 node.

A reference to compare the learned controllers with (`liquid-control demo --controller
expert`), and a stand-in for controller_node when testing the simulator's plumbing. It speaks
the same topics as controller_node (subscribes to the sensors, publishes the command) and,
like it, ticks on a timer of the node's clock: with use_sim_time (the default here) it ticks
on /clock, once per control period.
"""
from __future__ import annotations

import sys

import numpy as np
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry, Path
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from liquid_control.sim.topics import CARTPOLE_JOINTS
from liquid_control.tasks.spec import get_task

from .process import run_node
from .sim_node import TOPIC_CMD_VEL, TOPIC_EFFORT, TOPIC_JOINT_STATES, TOPIC_ODOM, TOPIC_PLAN

NODE_NAME = 'liquid_expert'


def make_expert(task):
    from liquid_control.sim import experts
    return experts.CartPoleExpert() if task == 'cartpole' else experts.DiffDriveExpert()


def _yaw(q):
    return float(np.arctan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z)))


class ExpertNode(Node):
    def __init__(self, node_name=NODE_NAME, **kwargs):
        super().__init__(node_name, **kwargs)
        task = self.declare_parameter(
            'task', 'cartpole', ParameterDescriptor(description='cartpole | diffdrive')).value
        self.spec = get_task(task)
        rate = self.declare_parameter(
            'control_rate_hz', 1.0 / self.spec.nominal_dt,
            ParameterDescriptor(description='Ticks per second of the node clock.')).value
        self.expert = make_expert(task)
        self.expert.reset()
        self.period = 1.0 / rate
        self.obs = None
        self.ticks = 0
        self._tracker = None
        self._previous = None
        if task == 'cartpole':
            self._pub = self.create_publisher(Float64MultiArray, TOPIC_EFFORT, 10)
            self.create_subscription(JointState, TOPIC_JOINT_STATES, self._on_joints,
                                     qos_profile_sensor_data)
        else:
            self._pub = self.create_publisher(Twist, TOPIC_CMD_VEL, 10)
            self.create_subscription(Odometry, TOPIC_ODOM, self._on_odom, qos_profile_sensor_data)
            self.create_subscription(Path, TOPIC_PLAN, self._on_plan, QoSProfile(
                depth=1, reliability=ReliabilityPolicy.RELIABLE,
                durability=DurabilityPolicy.TRANSIENT_LOCAL))
        self.create_timer(self.period, self._tick)

    def _on_joints(self, msg):
        try:
            index = [list(msg.name).index(j) for j in CARTPOLE_JOINTS]
        except ValueError:
            return
        (xi, ai) = index
        self.obs = np.array([msg.position[xi], msg.velocity[xi], msg.position[ai],
                             msg.velocity[ai]])

    def _on_plan(self, msg):
        from liquid_control.control.path_features import PathTracker
        xy = np.array([(p.pose.position.x, p.pose.position.y) for p in msg.poses])
        if self._tracker is not None and self._tracker.path.xy.shape == xy.shape and \
                np.allclose(self._tracker.path.xy, xy):
            return   # the periodic republication of the same path
        try:
            self._tracker = PathTracker(xy)
        except ValueError:
            self._tracker = None

    def _on_odom(self, msg):
        if self._tracker is None:
            return
        pose, twist = msg.pose.pose, msg.twist.twist
        self.obs = self._tracker.features((pose.position.x, pose.position.y),
                                          _yaw(pose.orientation), twist.linear.x,
                                          twist.angular.z)

    def _tick(self):
        if self.obs is None:
            return
        now = self.get_clock().now().nanoseconds
        dt = (now - self._previous) / 1e9 if self._previous is not None else self.period
        self._previous = now
        action = np.clip(self.expert.act(self.obs, max(dt, 1e-6)), self.spec.action_low,
                         self.spec.action_high)
        if self.spec.name == 'cartpole':
            self._pub.publish(Float64MultiArray(data=[float(action[0])]))
        else:
            msg = Twist()
            msg.linear.x, msg.angular.z = float(action[0]), float(action[1])
            self._pub.publish(msg)
        self.ticks += 1


def main(args=None):
    args = list(sys.argv if args is None else args)
    # On sim time unless the command line says otherwise.
    overrides = [] if any('use_sim_time' in a for a in args) else [
        Parameter('use_sim_time', value=True)]
    return run_node(lambda: ExpertNode(parameter_overrides=overrides), NODE_NAME, args)


if __name__ == '__main__':
    sys.exit(main())
