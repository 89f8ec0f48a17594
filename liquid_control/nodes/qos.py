"""The QoS profiles the nodes use, in one place.

Simulators publish their sensors reliable (as Gazebo's bridge does), so best-effort and
reliable subscribers both receive them; a path is latched (transient local, as a planner's
last plan); commands are reliable. `profile(name)` maps the names the controller's
parameters take (control.params.QOS_PROFILES) to profiles.
"""
from __future__ import annotations

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy,
                       qos_profile_sensor_data)

SENSOR = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10,
                    reliability=ReliabilityPolicy.RELIABLE,
                    durability=DurabilityPolicy.VOLATILE)
LATCHED = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                     reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
COMMAND = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10,
                     reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.VOLATILE)


def profile(name):
    """QoS by the names the parameters take: sensor_data, reliable, best_effort, latched."""
    if name == 'sensor_data':
        return qos_profile_sensor_data
    if name == 'latched':
        return LATCHED
    reliability = (ReliabilityPolicy.RELIABLE if name == 'reliable'
                   else ReliabilityPolicy.BEST_EFFORT)
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10 if name == 'reliable' else 1,
                      reliability=reliability, durability=DurabilityPolicy.VOLATILE)
