"""A stand-alone cart-pole sensor: publishes sensor_msgs/JointState on /joint_states at a rate.

    python -m liquid_control_tools.reliability.sensor_publisher --rate 100 --position 0.4

The fault scenarios kill and restart it as a crashed and restarted sensor driver. The cart
position is fixed, so a controller running an echo model answers with exactly that value.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rate', type=float, default=100.0)
    parser.add_argument('--position', type=float, default=0.4)
    parser.add_argument('--topic', default='joint_states')
    args = parser.parse_args(argv)

    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from rclpy.signals import SignalHandlerOptions
    from sensor_msgs.msg import JointState

    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    node = rclpy.create_node('reliability_sensor')
    pub = node.create_publisher(JointState, args.topic, qos_profile_sensor_data)
    msg = JointState()
    msg.name = ['slider_to_cart', 'cart_to_pole']
    msg.position = [args.position, 0.05]
    msg.velocity = [0.0, 0.0]

    def publish():
        msg.header.stamp = node.get_clock().now().to_msg()
        pub.publish(msg)

    node.create_timer(1.0 / args.rate, publish)
    from rclpy.executors import SingleThreadedExecutor
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    while not stop.is_set():
        executor.spin_once(timeout_sec=0.1)
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
