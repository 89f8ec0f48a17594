"""The real controller node driven over DDS from this process, watched for anything unsafe.

`NodeUnderTest` starts `ControllerNode` (the real one, with the task's shipped config and any
parameter overrides) in a private rclpy context, spun by an executor on its own thread as
`controller_node`'s main does; a second node in the same context publishes the sensor
messages and subscribes to the commands and /diagnostics over DDS.

`CommandWatch` checks every command as it arrives: finite, within the limits, the fields a
Twist sink does not use exactly 0. A crash is any exception escaping a callback of the
executor, any exception from the control tick (the loop survives it, the node reports it),
or the node leaving the active state.

Waiting is on conditions with deadlines (commands through a condition variable, counters by
polling the node's diagnostics snapshot), never on fixed sleeps.
"""
from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import numpy as np

from liquid_control.bringup.processes import isolated_environment
from liquid_control.control.params import read_params_file
from liquid_control.interfaces import (DIAGNOSTICS, SIM_STATUS_NAME, TWIST, TWIST_FIELDS, absolute,
                                       message_class)
from liquid_control.tasks import get_task

REPO = Path(__file__).resolve().parents[3]   # the source tree: tools run from it
CONTROLLER_STATUS = 'liquid_controller: control loop'
SIM_STATUS = SIM_STATUS_NAME


def isolate_ros():
    """This process's environment: a private DDS domain on localhost (the one set, else a
    random one), ROS logs in a temporary folder; set before rclpy starts, inherited by the
    processes started from here."""
    os.environ.update(isolated_environment())


def task_parameters(task, **overrides):
    """The task's controller parameters (liquid_controller's, flattened), with overrides."""
    values = read_params_file(get_task(task).params_file, 'liquid_controller')
    values.update(overrides)
    return values


def wait_until(predicate, timeout, poll=0.002):
    """Poll predicate until true; True, or False at the deadline."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        pause.wait(poll)
    return True


class Spinner:
    """An executor on a thread of its own; exceptions escaping callbacks are recorded (in a
    real process they would end it) and spinning goes on so the run can report them."""

    def __init__(self, context):
        from rclpy.executors import SingleThreadedExecutor
        self.executor = SingleThreadedExecutor(context=context)
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, name='reliability_spin',
                                        daemon=True)
        self._thread.start()

    def _spin(self):
        from rclpy.executors import ExternalShutdownException
        while not self._stop.is_set():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except ExternalShutdownException:
                break
            except Exception as exc:  # recorded: a crash of the node's process
                self.errors.append(f'{type(exc).__name__}: {exc}')

    def add(self, node):
        self.executor.add_node(node)
        self.executor.wake()
        return node

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.executor.shutdown(timeout_sec=1.0)


class CommandWatch:
    """Every command the node publishes, checked on arrival (see module docstring)."""

    def __init__(self, task, low, high, safe):
        self.command = get_task(task).sim_io.command
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        self.safe = np.asarray(safe, dtype=np.float64)
        self.count = 0
        self.non_finite = 0
        self.out_of_limits = 0
        self.bad_shape = 0
        self.safe_count = 0
        self.first_bad = ''
        self.latest = None
        self.history = None          # a list to keep (monotonic s, values) of every command
        # Gaps between consecutive commands by their publishers' source timestamps: the
        # controller's tick cadence, free of this process's own scheduling delays.
        self.gaps = None             # a list to keep every gap (ns), when wanted
        self.max_gap_ns = 0
        self._last_source_ns = None
        self._cond = threading.Condition()

    def restart_gaps(self):
        """Forget the previous command (a new publisher, or a measurement starts now)."""
        self._last_source_ns = None
        self.max_gap_ns = 0
        if self.gaps is not None:
            self.gaps.clear()

    def values(self, msg):
        """(the command's values, whether the message's unused fields are all zero)."""
        values = self.command.values(msg)
        if self.command.msg_type != TWIST:
            return values, True
        unused = [f for f in TWIST_FIELDS if f not in self.command.fields]
        return values, all(self.command._field(msg, f) == 0.0 for f in unused)

    def __call__(self, msg, info):
        # Two parameters: rclpy then passes the message info with its source timestamp.
        source_ns = (info or {}).get('source_timestamp') or 0
        if source_ns > 0:
            if self._last_source_ns is not None:
                gap = source_ns - self._last_source_ns
                self.max_gap_ns = max(self.max_gap_ns, gap)
                if self.gaps is not None:
                    self.gaps.append(gap)
            self._last_source_ns = source_ns
        values, unused_zero = self.values(msg)
        problem = ''
        if values.shape != self.low.shape or not unused_zero:
            self.bad_shape += 1
            problem = f'command of the wrong shape: {msg}'
        elif not np.isfinite(values).all():
            self.non_finite += 1
            problem = f'non-finite command {values.tolist()}'
        elif (values < self.low).any() or (values > self.high).any():
            self.out_of_limits += 1
            problem = f'command {values.tolist()} outside [{self.low.tolist()}, ' \
                      f'{self.high.tolist()}]'
        if problem and not self.first_bad:
            self.first_bad = problem
        with self._cond:
            self.count += 1
            if np.array_equal(values, self.safe):
                self.safe_count += 1
            self.latest = values
            if self.history is not None:
                self.history.append((time.monotonic(), values))
            self._cond.notify_all()

    @property
    def bad(self):
        return self.non_finite + self.out_of_limits + self.bad_shape

    def wait_for(self, predicate, timeout):
        """Wait for a command (arriving after this call) with predicate(values) true."""
        with self._cond:
            start = self.count

            def seen():
                return self.count > start and predicate(self.latest)
            # Only the newest command is examined: the question is what the node does now.
            return self._cond.wait_for(seen, timeout)

    def wait_count(self, n, timeout):
        with self._cond:
            target = self.count + n
            return self._cond.wait_for(lambda: self.count >= target, timeout)


class Driver:
    """A node of our own in a private rclpy context: publishers, the command watch,
    /diagnostics by status name, and the parameter services of other nodes."""

    def __init__(self, task, low, high, safe, name='reliability_driver', command_ns=''):
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import QoSProfile, ReliabilityPolicy

        isolate_ros()
        self.task = get_task(task)
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.spinner = Spinner(self.context)
        self.node = self.spinner.add(rclpy.create_node(name, context=self.context))
        reliable = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
        self.commands = CommandWatch(task, low, high, safe)
        command = self.task.sim_io.command
        self.node.create_subscription(message_class(command.msg_type),
                                      command_ns + absolute(command.topic), self.commands,
                                      reliable)
        self.statuses = {}           # status name -> [(level, message, {key: value})]
        self._diag_cond = threading.Condition()
        self.node.create_subscription(DiagnosticArray, DIAGNOSTICS, self._on_diagnostics,
                                      QoSProfile(depth=100,
                                                 reliability=ReliabilityPolicy.RELIABLE))
        self.publishers = {}
        self._clients = {}

    # -- traffic -----------------------------------------------------------------------------------
    def publisher(self, msg_type, topic, reliable=True, depth=1000):
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        key = (msg_type, topic)
        if key not in self.publishers:
            qos = QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE
                             if reliable else ReliabilityPolicy.BEST_EFFORT)
            self.publishers[key] = self.node.create_publisher(msg_type, topic, qos)
        return self.publishers[key]

    def _on_diagnostics(self, msg):
        with self._diag_cond:
            for status in msg.status:
                self.statuses.setdefault(status.name, []).append(
                    (status.level[0], status.message,
                     {kv.key: kv.value for kv in status.values}))
            self._diag_cond.notify_all()

    def next_status(self, name, predicate=None, timeout=5.0):
        """The next status named `name` (after this call) with predicate((level, message,
        values)) true, as (level, message, {key: value}); None at the timeout."""
        with self._diag_cond:
            start = len(self.statuses.get(name, ()))

            def found():
                for item in self.statuses.get(name, ())[start:]:
                    if predicate is None or predicate(item):
                        return item
                return None
            if not self._diag_cond.wait_for(lambda: found() is not None, timeout):
                return None
            return found()

    # -- services ----------------------------------------------------------------------------------
    def _client(self, srv_type, name):
        key = (srv_type, name)
        if key not in self._clients:
            self._clients[key] = self.node.create_client(srv_type, name)
        return self._clients[key]

    def call(self, srv_type, name, request, timeout=10.0):
        client = self._client(srv_type, name)
        if not client.wait_for_service(timeout_sec=timeout):
            raise TimeoutError(f'service {name} not available')
        future = client.call_async(request)
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout):
            raise TimeoutError(f'no response from {name}')
        return future.result()

    def set_parameter(self, node, name, value, timeout=10.0):
        """SetParameters on `node` (e.g. '/liquid_controller'); returns (successful, reason)."""
        from rcl_interfaces.msg import Parameter as ParameterMsg
        from rcl_interfaces.srv import SetParameters
        request = SetParameters.Request(
            parameters=[ParameterMsg(name=name, value=parameter_value(value))])
        result = self.call(SetParameters, f'{node}/set_parameters', request, timeout).results[0]
        return result.successful, result.reason

    def get_parameter(self, node, name, timeout=10.0):
        from rcl_interfaces.srv import GetParameters
        response = self.call(GetParameters, f'{node}/get_parameters',
                             GetParameters.Request(names=[name]), timeout)
        return python_value(response.values[0]) if response.values else None

    def close(self):
        import rclpy
        self.spinner.close()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def parameter_value(value):
    """A Python value -> rcl_interfaces/ParameterValue of the matching type."""
    from rcl_interfaces.msg import ParameterType, ParameterValue
    if isinstance(value, bool):
        return ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=value)
    if isinstance(value, int):
        return ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=value)
    if isinstance(value, float):
        return ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=value)
    if isinstance(value, str):
        return ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=value)
    values = list(value)
    if all(isinstance(v, bool) for v in values) and values:
        return ParameterValue(type=ParameterType.PARAMETER_BOOL_ARRAY, bool_array_value=values)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values) and values:
        return ParameterValue(type=ParameterType.PARAMETER_INTEGER_ARRAY,
                              integer_array_value=values)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return ParameterValue(type=ParameterType.PARAMETER_DOUBLE_ARRAY,
                              double_array_value=[float(v) for v in values])
    return ParameterValue(type=ParameterType.PARAMETER_STRING_ARRAY,
                          string_array_value=[str(v) for v in values])


def python_value(pv):
    """rcl_interfaces/ParameterValue -> a Python value (None when not set)."""
    from rcl_interfaces.msg import ParameterType as T
    fields = {T.PARAMETER_BOOL: 'bool_value', T.PARAMETER_INTEGER: 'integer_value',
              T.PARAMETER_DOUBLE: 'double_value', T.PARAMETER_STRING: 'string_value',
              T.PARAMETER_BOOL_ARRAY: 'bool_array_value',
              T.PARAMETER_INTEGER_ARRAY: 'integer_array_value',
              T.PARAMETER_DOUBLE_ARRAY: 'double_array_value',
              T.PARAMETER_STRING_ARRAY: 'string_array_value'}
    field = fields.get(pv.type)
    if field is None:
        return None
    value = getattr(pv, field)
    return list(value) if field.endswith('array_value') else value


class NodeUnderTest:
    """ControllerNode in this process plus a Driver, both in one private rclpy context."""

    def __init__(self, task, model, **overrides):
        from rclpy.parameter import Parameter

        from liquid_control.nodes.controller_node import ControllerNode

        self.task = task
        self.values = task_parameters(task, model=str(model), **overrides)
        self.driver = Driver(task, self.values['action.min'], self.values['action.max'],
                             self.values['action.safe'])
        self.context = self.driver.context
        self.spinner = self.driver.spinner
        self.commands = self.driver.commands
        self.node = ControllerNode(
            context=self.context,
            parameter_overrides=[Parameter(k, value=v) for k, v in self.values.items()])
        self.spinner.add(self.node)
        if self.node.lifecycle_state != 'active':
            error = self.node.diagnostics_snapshot()['configure_error']
            self.close()      # no node of that name may stay on the graph
            raise RuntimeError('the node did not reach active: ' + error)

    def publisher(self, msg_type, topic, reliable=True):
        return self.driver.publisher(msg_type, topic, reliable)

    def wait_matched(self, timeout=10.0):
        """Until the node subscribes to every publisher made and the commands reach us."""
        ok = wait_until(lambda: all(p.get_subscription_count() >= 1
                                    for p in self.driver.publishers.values()), timeout,
                        poll=0.01)
        return ok and self.commands.wait_count(1, timeout)

    def next_diagnostics(self, timeout=5.0):
        """The node's next /diagnostics status as (level, message, {key: value}), over DDS."""
        return self.driver.next_status(CONTROLLER_STATUS, timeout=timeout)

    # -- the node's state --------------------------------------------------------------------------
    def counters(self):
        """(received, rejected messages, rejected steps): the counters diagnostics report."""
        node = self.node
        layout = node._layout
        core = node._core
        if layout is None or core is None:
            return 0, 0, 0
        return layout.received, layout.rejected, core.rejected_steps

    def crashes(self):
        """Problems that would have ended or stopped a real node process."""
        problems = list(self.spinner.errors)
        loop_error = getattr(self.node, '_last_loop_error', '')
        if loop_error:
            problems.append(f'control tick raised {loop_error}')
        if self.node.lifecycle_state != 'active':
            problems.append(f'node left active: {self.node.lifecycle_state}')
        return problems

    def close(self):
        try:
            self.node.shutdown_safely()
        finally:
            self.spinner.close()
            self.node.destroy_node()
            self.driver.node.destroy_node()
            import rclpy
            rclpy.try_shutdown(context=self.context)


def finite(*values):
    return all(math.isfinite(v) for v in values)
