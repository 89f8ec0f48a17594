"""`sim_node` (node `liquid_sim`): a MuJoCo simulator that speaks Gazebo's ROS 2 topics.

It simulates a registered task (`task:=cartpole`, or any installed task) or any MJCF file
without one (`model_file:=my_robot.xml`), publishes /clock and the topics a Gazebo world
bridged by ros_gz_bridge would give a controller, and applies the commands it receives.
What it publishes and takes is the task's SimIO (liquid_control.sim.ros_io), e.g.

  cart-pole   out: /joint_states (sensor_msgs/JointState: slider_to_cart, cart_to_pole)
              in:  /effort_controller/commands (std_msgs/Float64MultiArray, one effort, N)
  diff-drive  out: /odom (nav_msgs/Odometry, odom -> base_link), /plan (nav_msgs/Path, odom
              frame), /joint_states (wheel joints)
              in:  /cmd_vel (geometry_msgs/Twist: linear.x, angular.z)
  MJCF file   out: /joint_states (every hinge and slide joint)
              in:  /effort_controller/commands (one value per actuator, in MJCF order)

plus /diagnostics (its counters and the episode's metrics) and the service ~/reset
(std_srvs/Trigger: a new episode; the clock keeps running forward).

Modes (parameter `mode`):
  realtime  sim time follows the wall clock (times `real_time_factor`); a command is applied
            the moment it arrives, so the controller's real latency is simulated.
  fast      as fast as possible: one publish period per iteration, commands applied as they
            come (results depend on timing).
  lockstep  deterministic: publish sensors and /clock, wait until the controller's command
            answers them (up to `lockstep_timeout_s` of wall time), then advance one period.
            A controller on sim time (use_sim_time) ticking at publish_rate_hz gets exactly
            one fresh observation per tick.

The simulation (SimCore) runs on a thread of its own; a single-threaded executor on the main
thread handles commands, the reset service and parameters, and hands them over. (rclpy's
MultiThreadedExecutor busy-polls its wait set while a callback is dispatched: it took a core
and slowed a lockstep run ~30x, to a real-time factor of 0.2.)
Every parameter is described in docs/simulation.md and by `ros2 param describe`.
"""
from __future__ import annotations

import math
import sys
import threading
import time

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor, SetParametersResult
from rclpy._rclpy_pybind11 import RCLError
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock
from std_srvs.srv import Trigger

from liquid_control.interfaces import CLOCK, DIAGNOSTICS, message_class
from liquid_control.sim import messages as sm
from liquid_control.sim.core import NS, SimConfig, SimCore
from liquid_control.sim.ros_io import CommandRejected
from liquid_control.tasks import get_task, task_names

from . import qos
from .process import run_node

NODE_NAME = 'liquid_sim'
MODES = ('realtime', 'fast', 'lockstep')
DEFAULT_RATE_HZ = 50.0           # publish rate of an MJCF file simulated without a task
DIAGNOSTICS_PERIOD_S = 1.0
WAITING_TIMEOUT_S = 0.1          # lockstep: wall time per tick while no controller exists
PAUSED_REPUBLISH_S = 0.1         # wall time between republications while paused
PAUSED_DIAGNOSTICS_S = 0.25      # diagnostics come faster while paused (start-up gating)
LATE_RESYNC_S = 0.1              # realtime: further behind (wall s), restart the schedule

# name: (default, description, dynamic). Defaults of None are filled per task.
PARAMETERS = {
    'task': ('', 'Task to simulate: any installed task (`liquid-control tasks` lists them).',
             False),
    'model_file': ('', 'An MJCF file to simulate without a task: /joint_states for every '
                   'hinge and slide joint, effort commands for its actuators in MJCF order.',
                   False),
    'mode': ('realtime', 'realtime | fast | lockstep (see the module docstring).', False),
    'real_time_factor': (1.0, 'realtime mode: sim seconds per wall second.', True),
    'publish_rate_hz': (None, 'Sensors and /clock per second of sim time (default: the '
                        "task's nominal control rate, 50 Hz for an MJCF file). In lockstep it "
                        "must equal the controller's control_rate_hz.", False),
    'lockstep_timeout_s': (1.0, 'lockstep: wall seconds to wait for the command answering a '
                           'tick before advancing anyway (counted).', True),
    'command_timeout_s': (0.5, 'Sim seconds without a command after which the actuators get '
                          'zero (<= 0: hold the last command forever).', True),
    'seed': (0, 'Seed of episode start states, sensor noise and drops.', False),
    'position_noise_std': (0.0, 'Gaussian noise std on joint positions and odometry x, y, '
                           'yaw (m or rad).', True),
    'velocity_noise_std': (0.0, 'Gaussian noise std on joint velocities and odometry twist '
                           '(m/s or rad/s).', True),
    'sensor_latency_s': (0.0, 'Sim seconds between measuring and publishing a sensor message '
                         '(rounded up to the publish period).', True),
    'drop_probability': (0.0, 'Probability that a sensor message is not published.', True),
    'actuator_noise_std': (0.0, 'Disturbance added to what the actuators apply, as a fraction '
                           "of each actuator's half range: a slowly varying random load "
                           '(Ornstein-Uhlenbeck). Commands are received and recorded as '
                           'sent.', True),
    'actuator_noise_tau_s': (0.5, 'Correlation time of that disturbance, sim seconds '
                             '(0: a new value every publish period).', True),
    'sample_timing': ('periodic', 'When sensors are published: periodic (every 1/'
                      'publish_rate_hz), jitter (each interval that period x (1 + U(-j, j)), '
                      'j = sample_jitter) or poisson (exponential intervals of that mean: an '
                      'event-driven sensor). Irregular intervals are whole physics steps.',
                      False),
    'sample_jitter': (0.0, 'sample_timing jitter: the fraction j, in [0, 0.99].', True),
    'paused': (False, 'Pause the simulation: the clock and the physics stop; the latest sensor '
               'messages and /clock are republished every 0.1 s of wall time; commands are '
               'still received. `ros2 param set /liquid_sim paused false` resumes.', True),
    'reset_clock': (False, 'A reset restarts /clock at 0 (as a Gazebo world reset does) instead '
                    'of continuing it.', True),
    'wait_for_controller': (True, 'Keep the physics paused (the clock runs) until the first '
                            'valid command starts the episode.', False),
    'run_duration_s': (0.0, 'Stop advancing after this much episode sim time and report '
                       'finished in diagnostics (0: run until stopped).', False),
    'end_on_done': (False, 'Finish (as run_duration_s does) when the task ends the episode '
                    '(e.g. cart-pole at a rail end, diff-drive at its time limit or lost).', False),
}
_RANGES = {
    'real_time_factor': (0.01, 100.0), 'publish_rate_hz': (1.0, 10000.0),
    'lockstep_timeout_s': (0.001, 3600.0), 'position_noise_std': (0.0, 100.0),
    'velocity_noise_std': (0.0, 100.0), 'sensor_latency_s': (0.0, 10.0),
    'drop_probability': (0.0, 0.99), 'run_duration_s': (0.0, 1e9),
    'actuator_noise_std': (0.0, 10.0), 'actuator_noise_tau_s': (0.0, 3600.0),
    'sample_jitter': (0.0, 0.99),
}
OUTPUT_PERIOD_RANGE = (0.0, 1e6)            # 0: only when an episode starts
PHYSICS_PREFIX = 'physics.'


def simulated_task(task, model_file):
    """The Task named by the `task` parameter, or None for an MJCF file (`model_file`);
    ValueError, listing the installed tasks, unless exactly one of the two is set."""
    if bool(task) == bool(model_file):
        what = 'both' if task else 'neither'
        raise ValueError(f'{what} of task and model_file set: simulate an installed task '
                         f'(task:=NAME; installed: {", ".join(task_names()) or "none"}) or an '
                         'MJCF file without a task (model_file:=PATH)')
    return get_task(task) if task else None


def _descriptor(name, description, dynamic, value_range=None):
    desc = ParameterDescriptor(description=description, read_only=not dynamic)
    value_range = value_range or _RANGES.get(name)
    if value_range:
        lo, hi = value_range
        desc.floating_point_range = [FloatingPointRange(from_value=lo, to_value=hi)]
    return desc


class CommandInbox:
    """Hand-off of commands from the executor thread to the simulation thread."""

    def __init__(self):
        self._cond = threading.Condition()
        self.seq = 0
        self._latest = None
        self._rejections = []
        self.reset_requested = False
        self.stopping = False

    def put(self, values):
        with self._cond:
            self._latest = values
            self.seq += 1
            self._cond.notify_all()

    def reject(self, reason):
        with self._cond:
            self._rejections.append(str(reason))

    def request_reset(self):
        with self._cond:
            self.reset_requested = True
            self._cond.notify_all()

    def stop(self):
        with self._cond:
            self.stopping = True
            self._cond.notify_all()

    def wake(self):
        """Wake the simulation thread to re-read its state (e.g. a pause change)."""
        with self._cond:
            self._cond.notify_all()

    def wait_any(self, timeout_s):
        """Block until any hand-off (command, rejection, reset, stop, wake) or the timeout."""
        with self._cond:
            if not (self._latest is not None or self.reset_requested or self.stopping):
                self._cond.wait(max(timeout_s, 0.0))

    def take(self):
        """(latest command or None, rejection reasons since the last take)."""
        with self._cond:
            latest, self._latest = self._latest, None
            rejections, self._rejections = self._rejections, []
            return latest, rejections

    def wait_for(self, seq, timeout_s):
        """Block until a command newer than `seq`, a reset request or stop; True if a new
        command came."""
        with self._cond:
            self._cond.wait_for(
                lambda: self.seq > seq or self.reset_requested or self.stopping,
                timeout=max(timeout_s, 0.0))
            return self.seq > seq

    def wait_until(self, deadline_monotonic):
        """Block until a new command is waiting, a reset request, stop, or the deadline."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._latest is not None or self.reset_requested or self.stopping,
                timeout=max(deadline_monotonic - time.monotonic(), 0.0))


class SimNode(Node):
    def __init__(self, node_name=NODE_NAME, parameter_overrides=None, **kwargs):
        super().__init__(node_name, parameter_overrides=parameter_overrides, **kwargs)
        self._declare_all()
        self.mode = self.get_parameter('mode').value
        if self.mode not in MODES:
            raise ValueError(f'mode must be one of {", ".join(MODES)}; got {self.mode!r}')
        self.config = self._sim_config()
        self.paused = bool(self.get_parameter('paused').value)
        self.core = SimCore(self.config)
        self.inbox = CommandInbox()
        self.counts = {'lockstep_timeouts': 0, 'realtime_overruns': 0, 'resets': 0}
        self._reset_done = threading.Condition()
        self._physics_changed = False

        self._clock_pub = self.create_publisher(Clock, CLOCK, qos.SENSOR)
        self._diag_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS, qos.SENSOR)
        io = self.core.io
        self._output_pubs = {
            output: self.create_publisher(message_class(output.msg_type), output.topic,
                                          qos.LATCHED if output.latched else qos.SENSOR)
            for output in io.outputs}
        self._sensor_pub = self._output_pubs[io.primary]
        command = io.command
        self._cmd_sub = self.create_subscription(
            message_class(command.msg_type), command.topic,
            lambda msg: self._hand_over(command.to_action, msg), qos.COMMAND,
            callback_group=MutuallyExclusiveCallbackGroup())
        self._last_published = []
        self._message_cache = {}         # periodic output -> (sample key, message)
        self._final_rtf = None
        self.create_service(Trigger, '~/reset', self._on_reset,
                            callback_group=MutuallyExclusiveCallbackGroup())
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.context.on_shutdown(self.inbox.stop)
        self._last_diag = 0.0
        self._resumed = (time.monotonic(), 0)
        self._finished_reported = False
        self.get_logger().info(
            f'{self.core.name} in {self.mode} mode: publishing every '
            f'{self.core.period_ns / 1e6:g} ms of sim time; physics step '
            f'{self.core.env.physics_dt * 1e3:g} ms')

    # -- parameters -------------------------------------------------------------------------
    def _declare_all(self):
        """Declare the parameters; those of the task (its physics changes, its outputs'
        periods, its nominal rate) once the task is known."""
        for name in ('task', 'model_file'):
            default, description, dynamic = PARAMETERS[name]
            self.declare_parameter(name, default, _descriptor(name, description, dynamic))
        self.sim_task = task = simulated_task(self.get_parameter('task').value,
                                          self.get_parameter('model_file').value)
        for name, (default, description, dynamic) in PARAMETERS.items():
            if name in ('task', 'model_file'):
                continue
            if name == 'publish_rate_hz' and default is None:
                default = 1.0 / task.nominal_dt if task else DEFAULT_RATE_HZ
            self.declare_parameter(name, default, _descriptor(name, description, dynamic))
        for key, default in (task.physics_defaults if task else {}).items():
            self.declare_parameter(
                PHYSICS_PREFIX + key, float(default),
                ParameterDescriptor(description=f'Physics change {key} (> 0), applied at the '
                                    'next reset.'))
        self._output_periods = task.sim_io.parameters if task else ()
        for period in self._output_periods:
            self.declare_parameter(period.name, float(period.default), _descriptor(
                period.name, period.description, True, OUTPUT_PERIOD_RANGE))

    def _sim_config(self):
        p = {name: self.get_parameter(name).value for name in PARAMETERS}
        physics = {key: param.value for key, param in
                   self.get_parameters_by_prefix(PHYSICS_PREFIX.rstrip('.')).items()}
        return SimConfig(
            task=self.sim_task, model_file=p['model_file'], seed=int(p['seed']),
            publish_rate_hz=float(p['publish_rate_hz']),
            command_timeout_s=float(p['command_timeout_s']),
            position_noise_std=float(p['position_noise_std']),
            velocity_noise_std=float(p['velocity_noise_std']),
            sensor_latency_s=float(p['sensor_latency_s']),
            drop_probability=float(p['drop_probability']),
            actuator_noise_std=float(p['actuator_noise_std']),
            actuator_noise_tau_s=float(p['actuator_noise_tau_s']), physics=physics,
            wait_for_controller=bool(p['wait_for_controller']),
            run_duration_s=float(p['run_duration_s']), end_on_done=bool(p['end_on_done']),
            output_periods={period.name: float(self.get_parameter(period.name).value)
                            for period in self._output_periods},
            sample_timing=str(p['sample_timing']),
            sample_jitter=float(p['sample_jitter'])).validate()

    def _on_set_parameters(self, params):
        """Live changes of the dynamic parameters (noise, latency, drops, timeouts, physics
        for the next episode). Read-only ones are refused by rclpy before this."""
        changes = {}
        for param in params:
            value = param.value
            if param.name.startswith(PHYSICS_PREFIX):
                if param.type_ not in (Parameter.Type.DOUBLE, Parameter.Type.INTEGER) \
                        or not math.isfinite(value) or value <= 0:
                    return SetParametersResult(successful=False,
                                               reason=f'{param.name} must be a number > 0')
                changes[param.name] = float(value)
            elif param.name in ('paused', 'reset_clock'):
                if param.type_ != Parameter.Type.BOOL:
                    return SetParametersResult(successful=False,
                                               reason=f'{param.name} is a bool')
                if param.name == 'paused':
                    changes[param.name] = bool(value)
            elif param.name in SimConfig.__dataclass_fields__ or param.name in (
                    'real_time_factor', 'lockstep_timeout_s') or param.name in {
                    period.name for period in self._output_periods}:
                if param.type_ not in (Parameter.Type.DOUBLE, Parameter.Type.INTEGER):
                    return SetParametersResult(successful=False,
                                               reason=f'{param.name} must be a number')
                changes[param.name] = float(value)
        for name, value in changes.items():
            if name == 'paused':
                self.paused = value
                self.inbox.wake()
            elif name.startswith(PHYSICS_PREFIX):
                self.config.physics[name[len(PHYSICS_PREFIX):]] = value
                self._physics_changed = True
            elif name in self.config.output_periods:
                self.config.output_periods[name] = value
            elif hasattr(self.config, name):
                setattr(self.config, name, value)
        return SetParametersResult(successful=True)

    # -- executor-thread callbacks: hand-off only ---------------------------------------------
    # Each message is checked here, so every invalid one is counted even when several
    # arrive within one simulation step (the latest valid one is applied, as ros2_control's
    # command buffer does).
    def _hand_over(self, convert, msg):
        try:
            raw = convert(msg)
            self.core.check_command(raw)
        except CommandRejected as exc:
            self.inbox.reject(exc)
            return
        except Exception as exc:   # a malformed message never stops the simulator
            self.inbox.reject(f'unreadable command ({type(exc).__name__}: {exc})')
            return
        self.inbox.put(raw)   # clipped (and counted) when applied

    def _on_reset(self, request, response):
        with self._reset_done:
            before = self.counts['resets']
            self.inbox.request_reset()
            done = self._reset_done.wait_for(lambda: self.counts['resets'] > before,
                                             timeout=5.0)
        response.success = bool(done)
        response.message = (f'episode {self.core.episode} started at sim time '
                            f'{self.core.clock_ns / NS:.3f} s' if done
                            else 'the simulation loop did not answer within 5 s')
        return response

    # -- simulation thread -------------------------------------------------------------------
    def _apply_inbox(self):
        """Apply what the executor handed over; True if a new valid command was applied."""
        latest, rejections = self.inbox.take()
        for reason in rejections:
            self.core.reject(reason)
        return latest is not None and self.core.command(latest)

    def _reset(self):
        with self._reset_done:
            self.inbox.reset_requested = False
            if self._physics_changed:
                self._physics_changed = False
                try:
                    self.core.rebuild(dict(self.config.physics))
                except ValueError as exc:
                    self.get_logger().error(f'physics change refused: {exc}')
            self.core.reset(restart_clock=bool(self.get_parameter('reset_clock').value))
            self.inbox.take()   # a command computed for the old episode is not applied
            self.counts['resets'] += 1
            self._reset_done.notify_all()
        self.get_logger().info(f'episode {self.core.episode} started')

    def _publish(self):
        """Outputs due now, then /clock (in that order: a controller ticking on /clock sees
        the sensor values of this instant)."""
        published = [(self._output_pubs[output], self._message(output, sample))
                     for output, sample in self.core.sample()]
        published.append((self._clock_pub, sm.clock_msg(self.core.clock_ns)))
        for publisher, msg in published:
            publisher.publish(msg)
        self._last_published = published

    def _message(self, output, sample):
        """The output's message; a periodic output's (a path of a few hundred poses takes
        tens of ms to build in Python) is built once per sample key and only restamped."""
        if output.period is None:
            return output.to_message(sample)
        cached = self._message_cache.get(output)
        if cached is None or cached[0] != sample.key:
            cached = self._message_cache[output] = (sample.key, output.to_message(sample))
        cached[1].header.stamp = sm.to_time(sample.stamp_ns)
        return cached[1]

    def _hold_while_paused(self):
        """While `paused`: republish the latest messages (the clock stands still), receive
        commands and resets, keep diagnostics going. Returns True if it paused at all."""
        if not self.paused:
            return False
        next_publish = 0.0
        while self.paused and self._running() and not self.inbox.reset_requested:
            now = time.monotonic()
            if now >= next_publish:
                next_publish = now + PAUSED_REPUBLISH_S
                for publisher, msg in self._last_published:
                    publisher.publish(msg)
                self._maybe_diagnostics(period=PAUSED_DIAGNOSTICS_S)
            self.inbox.wait_any(next_publish - now)
            self._apply_inbox()
        self._resumed = (time.monotonic(), self.core.clock_ns)
        return True

    def real_time_factor(self):
        """Sim seconds per wall second since the simulation last resumed (pauses
        excluded), up to the moment it finished."""
        if self._final_rtf is not None:
            return self._final_rtf
        wall0, clock0 = self._resumed
        wall = time.monotonic() - wall0
        return (self.core.clock_ns - clock0) / NS / wall if wall > 0 and not self.paused \
            else 0.0

    def status(self):
        return {**self.core.status(), 'mode': self.mode, 'paused': self.paused, **self.counts,
                'sensor_subscribers': self._sensor_pub.get_subscription_count(),
                'command_publishers': self._cmd_sub.get_publisher_count(),
                'real_time_factor': self.real_time_factor()}

    def _maybe_diagnostics(self, force=False, period=DIAGNOSTICS_PERIOD_S):
        now = time.monotonic()
        if not force and now - self._last_diag < period:
            return
        self._last_diag = now
        core = self.core
        if core.finished:
            level, message = DiagnosticStatus.OK, 'finished'
        elif self.paused:
            level, message = DiagnosticStatus.OK, 'paused'
        elif core.timed_out:
            level, message = DiagnosticStatus.WARN, 'command timeout: actuators at zero'
        elif not core.running:
            level, message = DiagnosticStatus.OK, 'waiting for the first command'
        else:
            level, message = DiagnosticStatus.OK, 'running'
        self._diag_pub.publish(sm.diagnostics_msg(core.clock_ns, self.status(), core.metrics(),
                                                  level, message))

    def run(self):
        """The simulation loop; returns when stopped (inbox.stop() or ROS shutdown)."""
        self._resumed = (time.monotonic(), self.core.clock_ns)
        loops = {'realtime': self._run_realtime, 'fast': self._run_fast,
                 'lockstep': self._run_lockstep}
        loops[self.mode]()

    def _finish_check(self):
        """After the run duration: report once, then idle until stopped."""
        if self.core.finished and not self._finished_reported:
            self._finished_reported = True
            self._final_rtf = self.real_time_factor()
            self._publish()
            self._maybe_diagnostics(force=True)
            self.get_logger().info(
                f'finished after {self.core.episode_time:.2f} s of episode time: '
                f'{sm.metrics_text(self.core.metrics())}')
        if self.core.finished:
            # Paused: keep diagnostics going and answer resets.
            self.inbox.wait_for(self.inbox.seq, DIAGNOSTICS_PERIOD_S)
            self.inbox.take()
            if self.inbox.reset_requested:
                self._reset()
                self._finished_reported = False
                self._final_rtf = None
                self._resumed = (time.monotonic(), self.core.clock_ns)
                return False
            self._maybe_diagnostics()
            return True
        return False

    def _running(self):
        return not self.inbox.stopping and rclpy.ok(context=self.context)

    def _run_lockstep(self):
        core = self.core
        while self._running():
            if self._finish_check():
                continue
            if self.inbox.reset_requested:
                self._reset()
            seq = self.inbox.seq
            self._publish()
            resumed = self._hold_while_paused()
            waiting = not core.running
            # Before the first command the clock must move on so that a controller on sim
            # time can tick at all, but a controller that is up and slow to answer must not
            # see the start state twice (its recurrent state would differ run to run): step
            # quickly only while no command publisher exists. A controller that has seen
            # this instant during a pause without answering it ticks at the next one: move
            # on at once.
            timeout = self.config_value('lockstep_timeout_s')
            if waiting and self._cmd_sub.get_publisher_count() == 0:
                timeout = WAITING_TIMEOUT_S
            if waiting and resumed:
                timeout = 0.0
            answered = self.inbox.wait_for(seq, timeout)
            if self.inbox.stopping or self.inbox.reset_requested:
                continue
            self._apply_inbox()
            if not answered and not waiting:
                self.counts['lockstep_timeouts'] += 1
            core.advance_to(core.clock_ns + core.next_period_ns())
            self._maybe_diagnostics()

    def _run_fast(self):
        core = self.core
        while self._running():
            if self._finish_check():
                continue
            if self.inbox.reset_requested:
                self._reset()
            self._publish()
            self._hold_while_paused()
            self._apply_inbox()
            core.advance_to(core.clock_ns + core.next_period_ns())
            self._maybe_diagnostics()

    def _run_realtime(self):
        core = self.core
        wall0, sim0 = time.monotonic(), core.clock_ns
        while self._running():
            if self._finish_check() or self.inbox.reset_requested:
                if self.inbox.reset_requested:
                    self._reset()
                wall0, sim0 = time.monotonic(), core.clock_ns
                continue
            rtf = self.config_value('real_time_factor')
            tick_sim = core.clock_ns
            self._publish()
            if self._hold_while_paused():
                wall0, sim0 = time.monotonic(), tick_sim
            next_sim = tick_sim + core.next_period_ns()
            deadline = wall0 + (next_sim - sim0) / NS / rtf
            now = time.monotonic()
            if now - deadline > LATE_RESYNC_S:
                # Far behind the wall clock (machine overloaded): restart the schedule
                # instead of racing to catch up.
                self.counts['realtime_overruns'] += 1
                wall0, sim0 = now, tick_sim
                deadline = now + core.period_ns / NS / rtf
            while self._running() and not self.inbox.reset_requested:
                self.inbox.wait_until(deadline)
                now = time.monotonic()
                # Integrate up to this wall instant, then apply what arrived meanwhile.
                core.advance_to(min(next_sim, sim0 + int((now - wall0) * rtf * NS)))
                self._apply_inbox()
                if now >= deadline or core.finished:
                    break
            if not self.inbox.reset_requested:
                core.advance_to(next_sim)
            self._maybe_diagnostics()

    def config_value(self, name):
        return float(self.get_parameter(name).value)

    def stop(self):
        self.inbox.stop()


def main(args=None):
    """Executor on the main thread, simulation on a thread of its own (sim_process.run_node):
    a signal only sets an event, and the simulation is joined before the node is destroyed."""
    return run_node(SimNode, 'sim_node', args, worker=_simulate)


def _simulate(node):
    """The simulation thread; what it raises, run_node reports and exits 1 with."""
    try:
        node.run()
    except RCLError:
        if rclpy.ok(context=node.context):
            raise
        # else a publish raced shutdown: not a failure


if __name__ == '__main__':
    sys.exit(main())
