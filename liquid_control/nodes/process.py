"""What the simulation and helper nodes (sim_node, expert, path publisher, effort relay)
share: their process entry, where SIGINT/SIGTERM end the spin by setting an event, so no
KeyboardInterrupt lands in the middle of the clean-up and the process exits 0; and declaring
a described parameter."""
from __future__ import annotations

import signal
import sys
import threading

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions


def declare(node, name, default, description, read_only=True):
    """Declare a parameter with its description (read-only unless said) and return its
    value."""
    return node.declare_parameter(name, default, ParameterDescriptor(
        description=description, read_only=read_only)).value


def ignore_stop_signals():
    """Once a node has shut down, ignore further SIGINT/SIGTERM. Ctrl-C under `ros2 launch`
    signals a node twice (the terminal, then launch); Python restores the default handlers
    while it finalises, where a late second SIGINT would kill a process that has done its
    work (exit code -2). Ignored signals stay ignored through finalisation."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def run_node(make_node, name, args=None, worker=None):
    """Create the node with make_node(), spin it until a signal; returns the exit code.

    worker(node) (optional) runs on a thread of its own beside the executor; the spin also
    ends when it returns, then node.stop() ends it and it is joined before the node is
    destroyed. If it raises, the process exits 1 with the reason."""
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
    try:
        node = make_node()
    except (ValueError, rclpy.exceptions.ParameterException) as exc:
        print(f'{name}: {exc}', file=sys.stderr)
        rclpy.try_shutdown()
        ignore_stop_signals()
        return 2
    failure = []
    thread = None
    if worker is not None:
        thread = threading.Thread(target=_run_worker, args=(worker, node, failure),
                                  name=f'{name} worker')
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    if thread is not None:
        thread.start()
    try:
        while not stop.is_set() and (thread is None or thread.is_alive()):
            executor.spin_once(timeout_sec=0.2)
    except ExternalShutdownException:
        pass
    finally:
        if thread is not None:
            node.stop()
            thread.join(timeout=5.0)
        executor.shutdown(timeout_sec=2.0)
        node.destroy_node()
        rclpy.try_shutdown()
        ignore_stop_signals()
    if failure:
        print(f'{name}: worker thread failed: {failure[0]}', file=sys.stderr)
        return 1
    return 0


def _run_worker(worker, node, failure):
    try:
        worker(node)
    except Exception as exc:  # reported by run_node, which then exits non-zero
        failure.append(f'{type(exc).__name__}: {exc}')
