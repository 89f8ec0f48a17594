"""A closed-loop simulation run: sim_node and a controller as separate processes over DDS,
recorded into a rosbag2 MCAP bag by this process.

Used by `liquid-control demo` and the closed-loop tests. The run waits on events (the
simulator's first /clock, its `finished` diagnostics) with timeouts and watches the
processes; it never sleeps in place of synchronisation. Only the processes it started are
signalled, by their pid.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from liquid_control.interfaces import (CLOCK, CLOCK_TYPE, CONTROLLER_STATUS_SUFFIX,
                                       DIAGNOSTIC_ARRAY, DIAGNOSTICS, SIM_STATUS_NAME, absolute,
                                       message_class)
from liquid_control.tasks import DEFAULT_TASK, get_task

from . import sim_launch as sl
from .processes import (IN_PROCESS_DDS_VARIABLES, DomainLease, NodeProcess,
                        isolated_environment, node_command)

LOCKSTEP_TIMEOUT_S = 5.0
LOCKSTEP_SENSOR_TIMEOUT_S = 2.0
# Once the processes have stopped nothing new arrives: a queue that yields no message for
# this long is empty.
DRAIN_IDLE_S = 0.2
SPIN_POLL_S = 0.1


def recorded_topics(task):
    """{absolute topic: type} a run records: the task's outputs and command, /clock and
    /diagnostics."""
    io = get_task(task).sim_io
    return {CLOCK: CLOCK_TYPE,
            **{absolute(topic): kind for topic, kind in io.topics.items()},
            DIAGNOSTICS: DIAGNOSTIC_ARRAY}


def diagnostic_values(status):
    return {kv.key: kv.value for kv in status.values}


@dataclass
class LiveState:
    """What the run has seen so far (written by the executor thread, read by the display)."""

    sim_time: float = 0.0
    signals: dict = field(default_factory=dict)    # latest value of each recorded signal
    command: tuple = ()
    commands: int = 0
    bad_commands: int = 0
    sim_status: dict = field(default_factory=dict)
    sim_message: str = ''
    controller_status: dict = field(default_factory=dict)
    controller_message: str = ''
    messages: int = 0


class ProcessFailed(RuntimeError):
    """A process of the run exited early; the text says which, with its log's tail."""


class SimSession:
    """One run. `controller` is an arch of contract.ARCHS (controller_node with the model
    <task>_<arch>, or `model`), or 'expert' (the task's expert as a node), or None (no
    controller: the caller drives the command topic itself).

    `controller_clock` 'sim' (use_sim_time, required for lockstep) or 'wall' (the
    controller's own wall-clock loop, realtime mode only).
    """

    def __init__(self, run_dir, task=DEFAULT_TASK, controller='cfc', model='',
                 mode='realtime', duration=30.0, seed=0, controller_clock=None,
                 sim_params=None, controller_params=None, domain_id=None, record=True,
                 python=None):
        self.task = get_task(task)
        self.io = self.task.sim_io
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.controller = controller
        self.mode = mode
        self.duration = float(duration)
        if controller_clock is None:
            controller_clock = 'wall' if mode == 'realtime' and controller != sl.EXPERT \
                else 'sim'
        self.controller_clock = controller_clock
        # Paused until every process has matched the others (see `start`); the run ends
        # when the task ends the episode.
        extra = {'paused': True, 'end_on_done': True, **(sim_params or {})}
        if mode == 'lockstep':
            # Only a dead controller should make a lockstep tick go unanswered; a loaded
            # machine can stall a live one for over a second.
            extra.setdefault('lockstep_timeout_s', LOCKSTEP_TIMEOUT_S)
        self.sim_params = sl.sim_parameters(task, mode, controller_clock, seed, duration,
                                            **extra)
        use_sim_time = controller_clock == 'sim'
        if controller == sl.EXPERT:
            self.controller_params = sl.expert_parameters(task, use_sim_time)
        elif controller is not None:
            self.controller_params = sl.controller_parameters(task, controller, model,
                                                              use_sim_time)
        else:
            self.controller_params = {}
        if mode == 'lockstep' and controller not in (None, sl.EXPERT):
            # In lockstep every observation is fresh by construction, and controller_node
            # (on sim time) discards a queued message that waited longer than
            # sensor_timeout_s of wall time: on a loaded machine that can drop a fresh one.
            self.controller_params['sensor_timeout_s'] = LOCKSTEP_SENSOR_TIMEOUT_S
        self.controller_params.update(controller_params or {})
        # Without a domain given, the run leases one (held until `stop`), so runs started
        # together never share it, whatever ROS_DOMAIN_ID the caller's process has.
        self._domain_lease = DomainLease() if domain_id is None else None
        if self._domain_lease is not None:
            domain_id = self._domain_lease.domain_id
        self.env = isolated_environment(domain_id, self.run_dir / 'ros_log')
        self.domain_id = int(self.env['ROS_DOMAIN_ID'])
        self.python = python
        self.record = record
        self.bag_path = self.run_dir / 'bag'
        self.live = LiveState()
        self.processes = {}
        self.first_clock = threading.Event()
        self._message_cond = threading.Condition()
        self.finished = threading.Event()
        self._context = None
        self._node = None
        self._executor = None
        self._spin_thread = None
        self._spin_stop = threading.Event()
        self._writer = None
        self._recorder = None
        self._close_error = ''
        self._low = np.asarray(self.task.action_low)
        self._high = np.asarray(self.task.action_high)
        self._outputs = {absolute(o.topic): o for o in self.io.outputs}
        self._command_topic = absolute(self.io.command.topic)

    # -- start ------------------------------------------------------------------------------
    def start(self, timeout=30.0):
        """Start recording, the simulator (paused) and the controller; once all of them are
        connected, resume the simulation. DDS discovery between processes takes from
        milliseconds to a few seconds; starting paused means no message of the episode is
        published before every subscriber can receive it."""
        self.launch()
        if self.sim_params.get('paused'):
            self.wait_connected(timeout)
            self.set_sim_parameters(paused=False)
        return self

    def launch(self):
        """Start the recorder and the processes, without waiting."""
        self._start_ros()
        self.processes['sim_node'] = NodeProcess(
            'sim_node', node_command('sim_node', self.sim_params, python=self.python),
            self.env, self.run_dir / 'sim_node.log')
        if self.controller == sl.EXPERT:
            self.processes['controller'] = NodeProcess(
                'expert', node_command('expert_node', self.controller_params,
                                       python=self.python),
                self.env, self.run_dir / 'controller.log')
        elif self.controller is not None:
            self.processes['controller'] = NodeProcess(
                'controller_node', node_command(
                    'controller_node', self.controller_params,
                    sl.controller_params_file(self.task), python=self.python),
                self.env, self.run_dir / 'controller.log')
        return self

    @property
    def node(self):
        """The run's own rclpy node (the recorder's), for extra publishers and clients."""
        return self._node

    def connected(self):
        """True when the recorder gets the simulator's messages and the controller's
        commands, and the simulator reports its sensor topic matched by the recorder and the
        controller and its command topic matched by the controller."""
        has_controller = self.controller is not None
        sim = self.live.sim_status
        if not self.first_clock.is_set() or not sim:
            return False
        if int(sim.get('sensor_subscribers', 0)) < 1 + has_controller:
            return False
        if has_controller:
            if int(sim.get('command_publishers', 0)) < 1:
                return False
            if self._recorder.publisher_count(self._command_topic) < 1:
                return False
            # controller_node reports its lifecycle state; the expert node has no lifecycle.
            if self.controller != sl.EXPERT and \
                    self.live.controller_status.get('lifecycle_state') != 'active':
                return False
        return True

    def wait_connected(self, timeout=30.0):
        if not self.wait_for(self.connected, timeout):
            sim = self.live.sim_status
            raise ProcessFailed(
                f'the processes did not connect within {timeout:g} s: recorder got /clock: '
                f'{self.first_clock.is_set()}, simulator sensor subscribers '
                f'{sim.get("sensor_subscribers", "?")}, command publishers '
                f'{sim.get("command_publishers", "?")}\n'
                + '\n'.join(f'--- {p.name} ---\n{p.tail()}' for p in self.processes.values()))

    def set_sim_parameters(self, timeout=10.0, **params):
        """Set sim_node parameters through its parameter service; raises on failure."""
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter

        client = self._node.create_client(SetParameters, '/liquid_sim/set_parameters')
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                raise ProcessFailed('sim_node parameter service not available')
            request = SetParameters.Request(parameters=[
                Parameter(name, value=value).to_parameter_msg() for name, value in params.items()])
            result = self._call(client, request, timeout)
            failed = [r.reason for r in result.results if not r.successful]
            if failed:
                raise ProcessFailed(f'sim_node refused {params}: {"; ".join(failed)}')
        finally:
            self._node.destroy_client(client)

    def reset_episode(self, timeout=10.0):
        """Call /liquid_sim/reset (std_srvs/Trigger); returns the response."""
        from std_srvs.srv import Trigger
        client = self._node.create_client(Trigger, '/liquid_sim/reset')
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                raise ProcessFailed('sim_node reset service not available')
            return self._call(client, Trigger.Request(), timeout)
        finally:
            self._node.destroy_client(client)

    def _call(self, client, request, timeout):
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        if not self.wait(done, timeout):
            raise ProcessFailed(f'no answer from {client.srv_name} within {timeout:g} s')
        return future.result()

    def _start_ros(self):
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        from liquid_control.recording.bag import BagWriter
        from liquid_control.recording.recorder import TopicRecorder, bag_qos_profiles

        for key in IN_PROCESS_DDS_VARIABLES:
            if key in self.env:
                os.environ[key] = self.env[key]
        self._context = rclpy.Context()
        rclpy.init(context=self._context, domain_id=self.domain_id)
        self._node = rclpy.create_node('liquid_run_recorder', context=self._context,
                                       start_parameter_services=False)
        topics = recorded_topics(self.task)
        latched = tuple(topic for topic, o in self._outputs.items() if o.latched)
        if self.record:
            self._writer = BagWriter(self.bag_path, topics, bag_qos_profiles(latched))
            self._recorder = TopicRecorder(self._node, self._writer, topics, latched,
                                           on_message=self._on_message)
        else:
            self._recorder = TopicRecorder(self._node, _NullWriter(), topics, latched,
                                           on_message=self._on_message)
        self._types = {t: message_class(n) for t, n in topics.items()}
        self._executor = SingleThreadedExecutor(context=self._context)
        self._executor.add_node(self._node)
        self._spin_thread = threading.Thread(target=self._spin, daemon=True)
        self._spin_thread.start()

    def _spin(self):
        from rclpy.executors import ExternalShutdownException
        try:
            while not self._spin_stop.is_set():
                self._executor.spin_once(timeout_sec=SPIN_POLL_S)
        except (ExternalShutdownException, RuntimeError):
            pass

    def _drain(self, timeout=10.0):
        """Record what the subscriptions still hold once the publishers are gone. On a
        loaded machine the executor lags them by hundreds of messages, which stopping at
        once would silently leave out of the bag."""
        from rclpy.executors import ExternalShutdownException
        deadline = time.monotonic() + timeout
        self._spin_stop.set()
        if self._spin_thread is not None:
            self._spin_thread.join(timeout=timeout)
            if self._spin_thread.is_alive():
                return             # stuck in a callback: the executor cannot be shared
        while time.monotonic() < deadline:
            before = self.live.messages
            try:
                self._executor.spin_once(timeout_sec=DRAIN_IDLE_S)
            except (ExternalShutdownException, RuntimeError):
                return
            if self.live.messages == before:
                return

    # -- live view (executor thread) -----------------------------------------------------------
    def _on_message(self, topic, stamp_ns, data):
        from rclpy.serialization import deserialize_message
        live = self.live
        live.messages += 1
        if topic == CLOCK:
            msg = deserialize_message(data, self._types[topic])
            live.sim_time = msg.clock.sec + msg.clock.nanosec * 1e-9
            self.first_clock.set()
        elif topic == self._command_topic:
            msg = deserialize_message(data, self._types[topic])
            values = self.io.command.values(msg)
            live.command = tuple(values)
            live.commands += 1
            if not command_ok(values, self._low, self._high):
                live.bad_commands += 1
        elif topic in self._outputs:
            msg = deserialize_message(data, self._types[topic])
            live.signals.update(self._outputs[topic].signals(msg))
        elif topic == DIAGNOSTICS:
            msg = deserialize_message(data, self._types[topic])
            for status in msg.status:
                if status.name == SIM_STATUS_NAME:
                    live.sim_status = diagnostic_values(status)
                    live.sim_message = status.message
                    if live.sim_status.get('finished') == 'true':
                        self.finished.set()
                elif status.name.endswith(CONTROLLER_STATUS_SUFFIX):
                    live.controller_status = diagnostic_values(status)
                    live.controller_message = status.message
            with self._message_cond:
                self._message_cond.notify_all()

    # -- waiting ------------------------------------------------------------------------------
    def check_processes(self):
        """Raise ProcessFailed if a process of the run has exited."""
        for name, proc in self.processes.items():
            code = proc.returncode
            if code is not None:
                raise ProcessFailed(f'{proc.name} exited with code {code} '
                                    f'(log: {proc.log_path})\n{proc.tail()}')

    def wait_for(self, predicate, timeout, poll=0.05):
        """Wait until predicate() holds (re-checked whenever a message is recorded, at
        least every `poll` s), checking the processes meanwhile."""
        deadline = time.monotonic() + timeout
        while not predicate():
            self.check_processes()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._message_cond:
                self._message_cond.wait(min(poll, remaining))
        return True

    def wait(self, event, timeout, poll=0.1, on_poll=None):
        """Wait for `event` (a threading.Event) up to `timeout` s of wall time, checking the
        processes while waiting; on_poll() is called between checks (progress display)."""
        deadline = time.monotonic() + timeout
        while not event.is_set():
            self.check_processes()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            event.wait(min(poll, remaining))
            if on_poll is not None:
                on_poll()
        return True

    def expected_wall_time(self):
        """A generous bound on the run's wall time (start-up included)."""
        rate = self.sim_params.get('real_time_factor', 1.0) if self.mode == 'realtime' \
            else 0.5
        return 30.0 + self.duration / max(rate, 1e-3) * 2.0

    def run_to_end(self, on_poll=None, start_timeout=30.0):
        """Wait for the simulator's clock, then for the episode to finish. Returns True when
        it finished, False on a timeout; ProcessFailed if a process died."""
        if not self.wait(self.first_clock, start_timeout, on_poll=on_poll):
            raise ProcessFailed(f'no /clock from sim_node within {start_timeout:g} s '
                                f'(log: {self.processes["sim_node"].log_path})\n'
                                f'{self.processes["sim_node"].tail()}')
        return self.wait_while_progressing(on_poll=on_poll)

    def wait_while_progressing(self, on_poll=None, stall_s=30.0):
        """Wait for the episode to finish for as long as sim time keeps moving: a slow
        machine only makes the run longer; a run whose clock stops for `stall_s` s of wall
        time (or that outlasts a generous bound) is reported as not finished."""
        deadline = time.monotonic() + max(self.expected_wall_time(), 10 * self.duration + 60)
        seen, moved_at = self.live.sim_time, time.monotonic()
        while time.monotonic() < deadline:
            if self.wait(self.finished, min(1.0, deadline - time.monotonic()), on_poll=on_poll):
                return True
            if self.live.sim_time != seen:
                seen, moved_at = self.live.sim_time, time.monotonic()
            elif time.monotonic() - moved_at > stall_s:
                return False
        return self.finished.is_set()

    # -- stop ---------------------------------------------------------------------------------
    def stop(self):
        """Stop the controller (its safe command goes out), then the simulator, then the
        recording once it has taken every message already received. Returns {process name:
        exit code}."""
        codes = {}
        for name in ('controller', 'sim_node'):
            if name in self.processes:
                codes[name] = self.processes[name].stop()
        if self._context is not None:
            self._drain()
            if self._recorder is not None:
                self._recorder.stop()
            self._executor.shutdown(timeout_sec=2.0)
            import rclpy
            rclpy.try_shutdown(context=self._context)
            if self._spin_thread is not None:
                self._spin_thread.join(timeout=5.0)
            self._node.destroy_node()
            self._context = None
        if self._writer is not None:
            try:
                self._writer.close()
            except OSError as exc:         # the last chunk and the summary did not fit
                self._close_error = f'closing the bag failed: {exc}'
        if self._domain_lease is not None:
            self._domain_lease.release()
        return codes

    @property
    def recording_error(self):
        """Why the bag is incomplete ('' when it is whole): a write or the close failed."""
        recorder = self._recorder.error if self._recorder is not None else ''
        return recorder or self._close_error

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _NullWriter:
    def write(self, topic, stamp, data):
        pass


def command_ok(values, low, high):
    """Finite, of the right length and within [low, high]."""
    values = np.asarray(values, dtype=np.float64)
    return values.shape == np.shape(low) and bool(np.all(np.isfinite(values))) and \
        bool(np.all(values >= low)) and bool(np.all(values <= high))
