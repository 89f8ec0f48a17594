"""Processes and traffic for the benchmarks that run the real controller node.

- `controller_process`: `controller_node` in a process of its own (the cart-pole mapping:
  JointState in, Float64MultiArray out), in a private namespace and DDS domain.
- `Traffic`: in this process, a JointState publisher at a set rate and a subscriber to the
  node's commands that records each command's value and its DDS receive timestamp.
- `echo_process`: the floor those are compared with, a bare rclpy echo in its own process.
- `echo_model`: a copy of a controller whose command equals its first observation, so a
  command tells which sensor message it was computed from. The whole original graph still
  runs every step (its action is added at a weight of 1e-30, which float32 rounding removes
  exactly), so the step costs what the model costs.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from liquid_control.bringup.processes import NodeProcess, node_command
from liquid_control.tasks import get_task

from .common import environment

NAMESPACE = '/liquid_bench'
SEQ_STEP = 0.01          # command value per sequence number
SEQ_WRAP = 1000          # sequence numbers wrap here: values 0.01 .. 10.0 (< the 30 N limit)
JOINTS = ('slider_to_cart', 'cart_to_pole')


def seq_value(seq):
    """The cart position that carries sequence number `seq` (never 0: 0 is the safe command)."""
    return SEQ_STEP * (seq % SEQ_WRAP + 1)


def value_residue(value):
    """Command value -> seq % SEQ_WRAP, or None for the safe command / anything else."""
    k = int(round(value / SEQ_STEP)) - 1
    if k < 0 or k >= SEQ_WRAP or abs(value - SEQ_STEP * (k + 1)) > 1e-4:
        return None
    return k


def echo_model(src, dst):
    """Write a copy of model `src` whose action is obs[:, 0:1] (see the module docstring)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    for node in graph.node:
        node.output[:] = ['bench_model_action' if o == 'action' else o for o in node.output]
    graph.initializer.extend([
        numpy_helper.from_array(np.array([0], np.int64), 'bench_start'),
        numpy_helper.from_array(np.array([1], np.int64), 'bench_end'),
        numpy_helper.from_array(np.array([1], np.int64), 'bench_axis'),
        numpy_helper.from_array(np.array(1e-30, np.float32), 'bench_tiny'),
    ])
    graph.node.extend([
        helper.make_node('Slice', ['obs', 'bench_start', 'bench_end', 'bench_axis'],
                         ['bench_obs0']),
        helper.make_node('Mul', ['bench_model_action', 'bench_tiny'], ['bench_vanishing']),
        helper.make_node('Add', ['bench_obs0', 'bench_vanishing'], ['action']),
    ])
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return Path(dst)


ROS_VARIABLES = ('ROS_DOMAIN_ID', 'ROS_AUTOMATIC_DISCOVERY_RANGE', 'RMW_IMPLEMENTATION',
                 'ROS_LOG_DIR', 'RCUTILS_LOGGING_SEVERITY_THRESHOLD',
                 'FASTDDS_DEFAULT_PROFILES_FILE')


def ros_env(env):
    """os.environ with the ROS variables of `env`, all of them restored afterwards (one `env`
    lacks keeps its current value, or stays unset, for the block)."""
    return environment({key: env.get(key, os.environ.get(key)) for key in ROS_VARIABLES})


def controller_process(model, rate_hz, env, log_path, busy_wait_us=None, sensor_timeout_s=1.0,
                       **params):
    """controller_node with the cart-pole's parameters (and `params`) in its own process (a
    liquid_control.bringup.processes.NodeProcess: stop() sends SIGINT, its clean exit)."""
    params = {'model': str(model), 'control_rate_hz': float(rate_hz),
              'sensor_timeout_s': float(sensor_timeout_s), **params}
    if busy_wait_us is not None:
        params['busy_wait_us'] = int(busy_wait_us)
    command = node_command('controller_node', params, get_task('cartpole').params_file,
                           namespace=NAMESPACE)
    return NodeProcess('controller_node', command, env, log_path)


def echo_process(env, log_path):
    """The end-to-end floor (echo_node: a bare rclpy node that publishes from its JointState
    callback) in its own process, on the topics controller_process uses."""
    command = [sys.executable, '-m', 'liquid_control_tools.bench.echo_node',
               '--namespace', NAMESPACE]
    return NodeProcess('bench_echo', command, env, log_path)


class ProcSampler:
    """CPU time and memory of one process from /proc/<pid>/stat and status."""

    def __init__(self, pid):
        self.pid = pid
        self.tick = os.sysconf('SC_CLK_TCK')

    def cpu_seconds(self):
        fields = Path(f'/proc/{self.pid}/stat').read_text().rsplit(')', 1)[1].split()
        # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / self.tick

    def memory_kib(self):
        out = {}
        for line in Path(f'/proc/{self.pid}/status').read_text().splitlines():
            key, _, value = line.partition(':')
            if key in ('VmRSS', 'VmHWM', 'Threads'):
                out[key] = int(value.split()[0])
        return out


class Traffic:
    """Sensor publisher + command recorder in this process (its own rclpy context)."""

    def __init__(self, env):
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import JointState
        from std_msgs.msg import Float64MultiArray

        self.context = rclpy.Context()
        with ros_env(env):
            rclpy.init(context=self.context, domain_id=int(env['ROS_DOMAIN_ID']))
        self.node = rclpy.create_node('bench_traffic', namespace=NAMESPACE,
                                      context=self.context)
        self.msg = JointState(name=list(JOINTS), position=[0.0, 3.0], velocity=[0.0, 0.1])
        self.pub = self.node.create_publisher(JointState, 'joint_states',
                                              qos_profile_sensor_data)
        self.commands = []               # (value, received_timestamp ns, CLOCK_REALTIME)
        self.recording = False
        self.sub = self.node.create_subscription(
            Float64MultiArray, 'effort_controller/commands', self._on_command, 1000)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._stop = threading.Event()
        self._spinner = threading.Thread(target=self._spin, daemon=True)
        self._spinner.start()
        self.published = []              # (seq, realtime ns, monotonic ns) while recording

    def _spin(self):
        while not self._stop.is_set() and self.context.ok():
            self.executor.spin_once(timeout_sec=0.05)

    def _on_command(self, msg, info):
        if self.recording and msg.data:
            self.commands.append((msg.data[0], info['received_timestamp']))

    def wait_matched(self, timeout=20.0, node=None):
        """True once the node's subscription and publisher have matched ours."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if node is not None and not node.alive:
                return False
            if self.pub.get_subscription_count() > 0 and self.sub.get_publisher_count() > 0:
                return True
            time.sleep(0.05)
        return False

    def set_node_parameters(self, node_name='liquid_controller', timeout=10.0, **values):
        """Set parameters of the node under test (as `ros2 param set` would); raise on
        refusal."""
        from rclpy.parameter import Parameter
        from rclpy.parameter_client import AsyncParameterClient

        client = AsyncParameterClient(self.node, f'{NAMESPACE}/{node_name}')
        if not client.wait_for_services(timeout_sec=timeout):
            raise RuntimeError(f'no parameter services of {NAMESPACE}/{node_name}')
        future = client.set_parameters([Parameter(k, value=v) for k, v in values.items()])
        end = time.monotonic() + timeout
        while not future.done() and time.monotonic() < end:
            time.sleep(0.01)
        if not future.done():
            raise RuntimeError(f'setting {values} timed out')
        refused = [r.reason for r in future.result().results if not r.successful]
        if refused:
            raise RuntimeError(f'setting {values} refused: {refused}')

    def publish(self, seq):
        self.msg.position[0] = seq_value(seq)
        real, mono = time.time_ns(), time.monotonic_ns()
        self.msg.header.stamp.sec, self.msg.header.stamp.nanosec = divmod(real, 1_000_000_000)
        self.pub.publish(self.msg)
        if self.recording:
            self.published.append((seq, real, mono))

    def run(self, seconds, period_s, record=False):
        """Publish every `period_s` (absolute schedule, sleeping) for `seconds`."""
        self.recording = record
        start = time.monotonic()
        seq = len(self.published) + (0 if record else 10 * SEQ_WRAP)
        k = 0
        while True:
            target = start + k * period_s
            if target - start >= seconds:
                break
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.publish(seq)
            seq += 1
            k += 1
        if record:
            time.sleep(0.2)          # commands in flight
        self.recording = False

    def close(self):
        import rclpy
        self._stop.set()
        self._spinner.join(2)
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def latencies(published, commands):
    """For each published message, the receipt of the first command computed from it.

    Returns (e2e ns array aligned with `published` (NaN = superseded: a newer message reached
    the node before its tick), the number of commands that matched no message)."""
    seqs = np.array([p[0] for p in published])
    sent = np.array([p[1] for p in published], dtype=np.int64)
    first = np.full(len(published), -1, dtype=np.int64)
    unmatched = 0
    base = seqs[0] if len(seqs) else 0
    for value, received in commands:
        residue = value_residue(value)
        if residue is None:
            unmatched += 1
            continue
        # The most recent message with this residue published before the receipt.
        cutoff = np.searchsorted(sent, received, side='right') - 1
        if cutoff < 0:
            unmatched += 1
            continue
        top = seqs[cutoff]
        seq = top - ((top - residue) % SEQ_WRAP)
        i = seq - base
        if i < 0:
            unmatched += 1
            continue
        if first[i] < 0:
            first[i] = received
    e2e = np.where(first >= 0, first - sent, -1).astype(np.float64)
    e2e[first < 0] = np.nan
    return e2e, unmatched
