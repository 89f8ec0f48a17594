"""`effort_relay_node` (node `liquid_effort_relay`): Gazebo glue for a one-joint effort
command.

The controller publishes std_msgs/Float64MultiArray on /effort_controller/commands, as
ros2_control's JointGroupEffortController takes. ros_gz_bridge has no mapping for that type,
so with a Gazebo world that applies the force through ApplyJointForce (the cart-pole's
worlds/cartpole.sdf) this node turns each one-value command into std_msgs/Float64 on
`output_topic` (bridged to gz.msgs.Double on the ApplyJointForce topic). Like sim_node and
ros2_control, it rejects and counts invalid commands (wrong length, non-finite), clips to
[low, high], and sends zero once after `command_timeout_s` without a command. With
gz_ros2_control instead (effort_controller in the robot's controller manager) this node is
not needed.
"""
from __future__ import annotations

import math
import sys

from rclpy.node import Node
from std_msgs.msg import Float64, Float64MultiArray

from liquid_control.interfaces import EFFORT_COMMANDS

from . import qos
from .process import declare, run_node

NODE_NAME = 'liquid_effort_relay'
DEFAULT_OUTPUT_TOPIC = 'effort'


def relay_value(data, low, high):
    """The force to send for a command's data, or None if the command is invalid."""
    if len(data) != 1 or not math.isfinite(data[0]):
        return None
    return min(max(float(data[0]), low), high)


class EffortRelay(Node):
    def __init__(self, node_name=NODE_NAME, **kwargs):
        super().__init__(node_name, **kwargs)
        self.timeout = declare(self, 'command_timeout_s', 0.5, 'Send zero once after this long '
                               'without a command (node clock; <= 0: never).', read_only=False)
        self.low = declare(self, 'low', -1e9, "Lowest effort relayed (the joint's limit).")
        self.high = declare(self, 'high', 1e9, "Highest effort relayed (the joint's limit).")
        if not self.low < self.high:
            raise ValueError(f'low {self.low} must be below high {self.high}')
        output_topic = declare(self, 'output_topic', DEFAULT_OUTPUT_TOPIC,
                               'std_msgs/Float64 topic the effort goes to (bridged to Gazebo).')
        self.rejected = 0
        self._last = None
        self._zeroed = True
        self._pub = self.create_publisher(Float64, output_topic, qos.SENSOR)
        self.create_subscription(Float64MultiArray, EFFORT_COMMANDS, self._on_command,
                                 qos.COMMAND)
        self.create_timer(0.05, self._watch)

    def _on_command(self, msg):
        value = relay_value(list(msg.data), self.low, self.high)
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
