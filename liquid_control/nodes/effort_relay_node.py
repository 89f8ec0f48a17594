"""`python -m liquid_control.nodes.effort_relay_node` (node `liquid_effort_relay`): Gazebo glue
for the cart-pole's effort command.

The controller publishes std_msgs/Float64MultiArray on /effort_controller/commands, as
ros2_control's JointGroupEffortController takes. ros_gz_bridge has no mapping for that type,
so with worlds/cartpole.sdf (ApplyJointForce on slider_to_cart) this node turns each command
into std_msgs/Float64 on `cart_force` (bridged to gz.msgs.Double on the ApplyJointForce
topic). Like sim_node and ros2_control, it rejects and counts invalid commands (wrong length,
non-finite), clips to the effort limit, and sends zero once after `command_timeout_s`
without a command. With gz_ros2_control instead (effort_controller in the robot's
controller manager) this node is not needed.
"""
from __future__ import annotations

import math
import sys

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from std_msgs.msg import Float64, Float64MultiArray

from liquid_control.tasks.spec import CARTPOLE

from .process import run_node
from .sim_node import COMMAND_QOS, SENSOR_QOS, TOPIC_EFFORT

NODE_NAME = 'liquid_effort_relay'
TOPIC_FORCE = 'cart_force'


def relay_value(data, low=CARTPOLE.action_low[0], high=CARTPOLE.action_high[0]):
    """The force to send for a command's data, or None if the command is invalid."""
    if len(data) != 1 or not math.isfinite(data[0]):
        return None
    return min(max(float(data[0]), low), high)


class EffortRelay(Node):
    def __init__(self, node_name=NODE_NAME, **kwargs):
        super().__init__(node_name, **kwargs)
        self.timeout = self.declare_parameter(
            'command_timeout_s', 0.5, ParameterDescriptor(
                description='Send zero once after this long without a command (node clock; '
                            '<= 0: never).')).value
        self.rejected = 0
        self._last = None
        self._zeroed = True
        self._pub = self.create_publisher(Float64, TOPIC_FORCE, SENSOR_QOS)
        self.create_subscription(Float64MultiArray, TOPIC_EFFORT, self._on_command, COMMAND_QOS)
        self.create_timer(0.05, self._watch)

    def _on_command(self, msg):
        value = relay_value(list(msg.data))
        if value is None:
            self.rejected += 1
            self.get_logger().warn(f'rejected command {list(msg.data)} ({self.rejected} so far)',
                                   throttle_duration_sec=1.0)
            return
        self._last = self.get_clock().now()
        self._zeroed = False
        self._pub.publish(Float64(data=value))

    def _watch(self):
        if self._zeroed or self.timeout <= 0 or self._last is None:
            return
        if (self.get_clock().now() - self._last).nanoseconds > self.timeout * 1e9:
            self._pub.publish(Float64(data=0.0))
            self._zeroed = True


def main(args=None):
    return run_node(EffortRelay, NODE_NAME, args)


if __name__ == '__main__':
    sys.exit(main())
