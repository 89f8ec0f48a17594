"""Process entry for the small simulation nodes (expert, path publisher, effort relay):
SIGINT/SIGTERM end the spin by setting an event, so no KeyboardInterrupt lands in the
middle of the clean-up and the process exits 0."""
from __future__ import annotations

import signal
import sys
import threading

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions


def run_node(make_node, name, args=None):
    """Create the node with make_node(), spin it until a signal; returns the exit code."""
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
    try:
        node = make_node()
    except (ValueError, rclpy.exceptions.ParameterException) as exc:
        print(f'{name}: {exc}', file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        while not stop.is_set():
            executor.spin_once(timeout_sec=0.2)
    except ExternalShutdownException:
        pass
    finally:
        executor.shutdown(timeout_sec=2.0)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
