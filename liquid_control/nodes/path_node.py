"""`path_node` (node `liquid_path`): publishes a path to follow.

Gazebo has no planner: with worlds/diffdrive.sdf this node stands in for Nav2's /plan. It
publishes a random smooth path (sim.paths, the generator of the diff-drive task, seeded)
starting at the robot's start pose, as nav_msgs/Path in the odom frame: latched and
republished every `period_s` so subscribers that join late (or with volatile durability)
get it. Parameters: seed, start_x, start_y, start_yaw, period_s, frame_id.
"""
from __future__ import annotations

import sys

import numpy as np
from nav_msgs.msg import Path
from rclpy.node import Node

from liquid_control.interfaces import ODOM_FRAME, PLAN
from liquid_control.sim import messages as sm
from liquid_control.sim.paths import random_path
from liquid_control.sim.ros_io import PathSample

from . import qos
from .process import declare, run_node

NODE_NAME = 'liquid_path'


def make_path(seed, start_xy=(0.0, 0.0), start_yaw=0.0):
    """(N, 2) path from the diff-drive task's generator (6-10 m, curvature <= 0.8 1/m)."""
    return random_path(np.random.default_rng([int(seed), 3]), length_range=(6.0, 10.0),
                       start_xy=start_xy, start_yaw=start_yaw)


class PathNode(Node):
    def __init__(self, node_name=NODE_NAME, **kwargs):
        super().__init__(node_name, **kwargs)
        seed = declare(self, 'seed', 0, 'Seed of the random path.')
        start = (declare(self, 'start_x', 0.0, 'Path start x (m, odom frame).'),
                 declare(self, 'start_y', 0.0, 'Path start y (m, odom frame).'))
        yaw = declare(self, 'start_yaw', 0.0, 'Path start heading (rad).')
        period = declare(self, 'period_s', 1.0, 'Republish period (s of the node clock).')
        self.frame_id = declare(self, 'frame_id', ODOM_FRAME, 'Frame of the path.')
        self.xy = make_path(seed, start, yaw)
        self._pub = self.create_publisher(Path, PLAN, qos.LATCHED)
        self.create_timer(period, self.publish)
        self.publish()

    def publish(self):
        self._pub.publish(sm.path_msg(PathSample(self.get_clock().now().nanoseconds, self.xy),
                                      self.frame_id))


def main(args=None):
    return run_node(PathNode, NODE_NAME, args)


if __name__ == '__main__':
    sys.exit(main())
