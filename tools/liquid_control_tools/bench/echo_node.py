"""The end-to-end floor: a bare rclpy node whose JointState callback publishes a command at
once (no model, no loop), in a process of its own.

    python -m liquid_control_tools.bench.echo_node --namespace /liquid_bench

It subscribes and publishes on the topics controller_node uses for the cart-pole (sensor
data QoS in, depth 10 out) and echoes the first joint position, which carries the
benchmark's sequence number (ros_harness.seq_value): the latency through it is what two DDS
hops between Python processes and rclpy's callback cost, the least any controller node
written with rclpy can achieve.
"""
from __future__ import annotations

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--namespace', required=True)
    args = parser.parse_args(argv)

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    rclpy.init()
    node = rclpy.create_node('bench_echo', namespace=args.namespace)
    publisher = node.create_publisher(Float64MultiArray, 'effort_controller/commands', 10)
    command = Float64MultiArray(data=[0.0])

    def on_joint_state(msg):
        command.data[0] = msg.position[0]
        publisher.publish(command)

    node.create_subscription(JointState, 'joint_states', on_joint_state,
                             qos_profile_sensor_data)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
