"""controller_node: the managed ROS 2 node that steps an ONNX controller at a fixed rate.

    ros2 run liquid_control controller_node --ros-args --params-file config/cartpole.yaml

Node `liquid_controller`, an rclpy LifecycleNode (docs/node.md is the user's reference):
- configure: parse the parameters, load the model, check its obs/action names against the
  observation mapping and action sink (a mismatch prints both lists and fails), subscribe to
  the sensor topics, create the command publisher;
- activate: start the control loop; deactivate: stop it and publish the safe command once;
  cleanup, shutdown and errors: stop, publish the safe command, release everything;
- `autostart` (default true) walks it to active at start-up; SIGINT/SIGTERM publish the safe
  command before the process exits.

Threads: in `controller_node` the executor spins on its own thread (services, parameters, the
path subscription, the 1 Hz diagnostics) and the main thread only waits for a signal. The
sensor subscriptions belong to a callback group no executor runs: the control loop takes their
queued messages itself, so sensor traffic never competes with the tick for the GIL and a tick
always sees the messages that arrived before it. On the wall clock the tick runs on a
dedicated loop thread (see loop.py); with use_sim_time it is a timer on the ROS clock, which
follows /clock. Setting `model` loads and validates the new model in the parameter service
callback, off the control path, and the tick installs it between ticks.
"""
from __future__ import annotations

import math
import signal
import sys
import threading
import time
from time import perf_counter_ns

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
from rclpy.callback_groups import CallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from rclpy.executors import SingleThreadedExecutor
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.signals import SignalHandlerOptions

from liquid_control.control import params as cfg
from liquid_control.control.actions import message_builder
from liquid_control.control.core import ControlCore, Outcome, load_bound_controller
from liquid_control.control.diagnostics import STATUS_NAME, controller_report
from liquid_control.control.loop import SWITCH_INTERVAL_S, TickStats, WallClockLoop, monotonic_ns
from liquid_control.control.observations import ObservationLayout, ObservationSource
from liquid_control.control.raw_messages import raw_decoder, raw_encoder
from liquid_control.interfaces import DIAGNOSTICS, PATH, message_class, stamp_to_ns
from liquid_control.runtime import ModelContractError

from . import qos
from .process import ignore_stop_signals

NODE_NAME = 'liquid_controller'
DIAGNOSTICS_PERIOD_S = 1.0
# Shutdown waits this long for every reliable subscriber to confirm the safe command. Fast
# DDS confirms at the writer's next heartbeat (every 3 s by default), so a shorter wait
# reports most delivered commands as unconfirmed, and leaves none for a resend after a loss.
SAFE_COMMAND_CONFIRM_TIMEOUT_S = 3.5
SUCCESS = TransitionCallbackReturn.SUCCESS
FAILURE = TransitionCallbackReturn.FAILURE


class PolledCallbackGroup(CallbackGroup):
    """Entities no executor runs: the control tick takes their messages itself.

    Sensor subscriptions live here, so a sensor message costs the executor thread nothing:
    it never wakes for them and never competes with the tick for the GIL, and the tick sees
    every message that arrived before it, whatever order the executor would have chosen.
    """

    def can_execute(self, entity):
        return False

    def beginning_execution(self, entity):
        return False

    def ending_execution(self, entity):
        pass


def descriptor(spec):
    d = ParameterDescriptor(description=spec.description, read_only=spec.read_only,
                            additional_constraints=spec.constraints)
    if spec.kind == 'double' and spec.low is not None:
        d.floating_point_range = [FloatingPointRange(from_value=float(spec.low),
                                                     to_value=float(spec.high), step=0.0)]
    if spec.kind == 'int' and spec.low is not None:
        d.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high),
                                        step=1)]
    # Numbers accept YAML's 50 as well as 50.0 (checked by config.check_value); unset ones
    # have no value to take a type from.
    d.dynamic_typing = spec.kind in ('int', 'double', 'double_array') or spec.default is None
    return d


class ControllerNode(LifecycleNode):
    """The liquid_control controller (see the module docstring and docs/node.md)."""

    def __init__(self, node_name=NODE_NAME, tick_stats=None, **kwargs):
        super().__init__(node_name, **kwargs)
        self._refused_overrides = {}     # name -> (value, why rclpy refused it)
        self._values = self._declare_parameters()
        self._stats = tick_stats if tick_stats is not None else TickStats()
        self._polled = []            # (subscription, source): taken by the tick itself
        self._core = None
        self._layout = None
        self._config = None
        self._loop = None
        self._sim_timer = None
        self._sim_previous_ns = None
        self._sensor_watch = None        # trigger sensor: ticks while the sensor is silent
        self._last_trigger = None        # trigger sensor: (message time, receipt time) ns
        self._subscriptions_owned = []
        self._cmd_pub = None
        self._build_command = None
        self._active = False
        self._uses_sim_time = False
        self._scheduling = ''
        self._configure_error = ''
        self._last_swap_error = ''
        self._last_loop_error = ''
        self.commands_published = 0
        self.safe_commands = 0
        self._window_rejected = (0, 0)
        self.finalized = threading.Event()
        self.finalized_callback = None     # called once finalized (main() stops the process)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._diag_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS, 10)
        self._diag_timer = self.create_timer(DIAGNOSTICS_PERIOD_S, self.publish_diagnostics,
                                             clock=Clock(clock_type=ClockType.STEADY_TIME))
        if self._values['autostart']:
            if self.trigger_configure() == SUCCESS:
                self.trigger_activate()

    # -- parameters -------------------------------------------------------------------------------
    def _declare(self, spec):
        try:
            return self.declare_parameter(spec.name, spec.default, descriptor(spec)).value
        except (InvalidParameterTypeException, InvalidParameterValueException, ValueError,
                TypeError) as exc:
            # A value of the wrong type or out of range (params file, command line): rclpy
            # refuses it in the constructor. The default stands in, and configure fails
            # naming the parameter (self._refused_overrides).
            self._refused_overrides[spec.name] = (self._parameter_overrides[spec.name].value,
                                                  exc)
            return self.declare_parameter(spec.name, spec.default, descriptor(spec),
                                          ignore_override=True).value

    def _declare_parameters(self):
        values = {spec.name: self._declare(spec) for spec in cfg.PARAMETERS}
        try:
            sources = cfg.check_value('observations.sources', values['observations.sources'])
        except cfg.ConfigError:
            sources = ()   # reported by configure
        for source in sources or ():
            if source.replace('_', '').isalnum():
                for spec in cfg.source_parameters(source):
                    values[spec.name] = self._declare(spec)
        return values

    def _on_set_parameters(self, params):
        changes = {p.name: p.value for p in params if cfg.spec_for(p.name) is not None}
        if not changes:
            return SetParametersResult(successful=True)
        values = dict(self._values)
        values.update(changes)
        try:
            for name, value in changes.items():
                cfg.check_value(name, value)
            candidate = cfg.parse_config(values)
            bound = self._prepare_controller(changes, candidate)
        except (cfg.ConfigError, ModelContractError) as exc:
            reason = str(exc)
            if _reloads_model(changes):
                self._last_swap_error = reason
                self.get_logger().error(f'model {values["model"]!r} rejected, keeping '
                                        f'{self._model_name()}: {reason}')
            return SetParametersResult(successful=False, reason=reason)
        self._values = values
        self._apply_live(changes, candidate, bound)
        return SetParametersResult(successful=True)

    def _prepare_controller(self, changes, candidate):
        """Load/bind what a change of model or action limits needs (raises with a reason)."""
        touches_sink = any(name.startswith('action.') for name in changes)
        reload = _reloads_model(changes)
        if not reload and not touches_sink:
            return None
        layout = self._layout or self._make_layout(candidate)
        if reload:
            return load_bound_controller(candidate.model, layout, candidate.sink,
                                         candidate.model_sha256, candidate.require_sha256)
        if self._core is not None:
            current = self._core.pending_controller or self._core.controller
            return current.with_limits(layout, candidate.sink)
        return None

    def _apply_live(self, changes, config, bound):
        core = self._core
        if core is not None:
            self._config = config
            if bound is not None:
                reloaded = _reloads_model(changes)
                core.request(bound, reset_state=reloaded)
                if not self._active:
                    core.install_pending()
                if reloaded:
                    self._last_swap_error = ''
                    self.get_logger().info(f'model {config.model!r} loaded ({bound.path}, '
                                           f'sha256 {bound.sha256[:12]}); swapping in')
            core.sensor_timeout_s = config.sensor_timeout_s
            core.dt_source = config.dt_source
            core.period_s = config.period_s
        if self._loop is not None:
            self._loop.period_s = config.period_s
            self._loop.busy_wait_s = config.busy_wait_us * 1e-6
            self._loop.adaptive = config.busy_wait_adaptive
        for timer in (self._sim_timer, self._sensor_watch):
            if timer is not None and 'control_rate_hz' in changes:
                timer.timer_period_ns = int(config.period_s * 1e9)

    # -- configuration pieces ---------------------------------------------------------------------
    def _receipt_clock(self):
        if self._uses_sim_time:
            clock = self.get_clock()
            return lambda: clock.now().nanoseconds
        return monotonic_ns

    def _make_layout(self, config):
        now = self._receipt_clock()
        return ObservationLayout([ObservationSource(s, now) for s in config.sources])

    def _model_name(self):
        core = self._core
        return core.controller.name if core is not None else 'no model'

    def _subscribe(self, layout, trigger):
        polled = PolledCallbackGroup()
        for index, source in enumerate(layout.sources):
            c = source.config
            # Serialized bytes read by a decoder of the fixed layout where there is one:
            # rclpy's conversion to Python objects costs more than the model step.
            decode = raw_decoder(c.msg_type)
            if trigger == 'sensor' and index == 0:
                # The primary sensor's messages start the ticks: the executor delivers them.
                sub = self.create_subscription(
                    message_class(c.msg_type), c.topic,
                    lambda msg, source=source, decode=decode: self._on_primary(msg, source,
                                                                               decode),
                    qos.profile(c.qos), raw=decode is not None)
            else:
                sub = self.create_subscription(message_class(c.msg_type), c.topic,
                                               source.on_message, qos.profile(c.qos),
                                               callback_group=polled, raw=decode is not None)
                self._polled.append((sub, source, decode))
            self._subscriptions_owned.append(sub)
            path_sub = None
            if c.path_topic:
                read_path = raw_decoder(PATH)
                path_sub = self.create_subscription(
                    message_class(PATH), c.path_topic,
                    lambda data, source=source: source.on_path(data, read_path),
                    qos.profile(c.path_qos), raw=True)
                self._subscriptions_owned.append(path_sub)
            source.set_topic_names(sub.topic_name, path_sub.topic_name if path_sub else '')

    def _release(self):
        self._polled = []
        for sub in self._subscriptions_owned:
            self.destroy_subscription(sub)
        self._subscriptions_owned = []
        if self._cmd_pub is not None:
            self.destroy_publisher(self._cmd_pub)
        self._cmd_pub = None
        self._core = None
        self._layout = None
        self._config = None

    # -- lifecycle --------------------------------------------------------------------------------
    def on_configure(self, state):
        log = self.get_logger()
        self._configure_error = ''
        try:
            # Parameters given to this node (params file, command line, launch) that it never
            # declared: rclpy drops them silently.
            cfg.check_known(self._parameter_overrides, self._parameters)
            for name, (value, exc) in self._refused_overrides.items():
                cfg.check_value(name, value)      # raises with the parameter's constraints
                raise cfg.ConfigError(f'{name}: {exc}')
            config = cfg.parse_config(self._values)
            self._uses_sim_time = bool(self.get_parameter('use_sim_time').value)
            layout = self._make_layout(config)
            bound = load_bound_controller(config.model, layout, config.sink,
                                          config.model_sha256, config.require_sha256)
        except (cfg.ConfigError, ModelContractError) as exc:
            self._configure_error = str(exc)
            log.error(f'configure failed: {exc}')
            return FAILURE
        self._config, self._layout = config, layout
        self._core = ControlCore(layout, bound, config.sensor_timeout_s, config.period_s,
                                 config.dt_source)
        sink = config.sink
        clock = self.get_clock()
        # Serialized bytes where the type has a fixed layout, else a message object:
        # rclpy publishes either.
        self._build_command = raw_encoder(sink.msg_type, sink.names) or message_builder(
            sink.msg_type, sink.names, message_class(sink.msg_type),
            stamp=lambda: clock.now().to_msg())
        self._cmd_pub = self.create_publisher(message_class(sink.msg_type), sink.topic,
                                              qos.profile(sink.qos))
        self._subscribe(layout, config.trigger)
        meta = bound.metadata
        log.info(f'configured: model {bound.name} ({meta.arch}, task {meta.task}, '
                 f'{bound.path}, sha256 {bound.sha256[:12]}); observations '
                 f'{", ".join(sub.topic_name for sub in self._subscriptions_owned)} -> '
                 f'{self._cmd_pub.topic_name} at {config.control_rate_hz:g} Hz '
                 f'({"sim time" if self._uses_sim_time else "wall clock"})')
        return SUCCESS

    def on_activate(self, state):
        self._core.restart()
        self._stats.restart()
        self._active = True
        if self._config.trigger == 'sensor':
            self._last_trigger = None
            self._sensor_watch = self.create_timer(self._config.period_s, self._watch_sensor)
            self._scheduling = 'sensor-triggered (executor)'
        elif self._uses_sim_time:
            self._sim_previous_ns = None
            self._sim_timer = self.create_timer(self._config.period_s, self._sim_tick)
        else:
            self._loop = WallClockLoop(self._tick, self._config.period_s,
                                       self._config.busy_wait_us * 1e-6, self._stats,
                                       on_error=self._on_loop_error,
                                       prepare=self._take_sensor_messages,
                                       priority=self._config.thread_priority,
                                       adaptive=self._config.busy_wait_adaptive)
            self._loop.start()
            self._scheduling = self._loop.scheduling
            if 'not permitted' in self._scheduling:
                self.get_logger().warning(f'control loop: {self._scheduling}', once=True)
        self.get_logger().info(f'active: controlling with {self._core.controller.name}')
        return super().on_activate(state)

    def on_deactivate(self, state):
        self._stop_loop()
        self.publish_safe_command()
        self.get_logger().info('inactive: safe command published')
        return super().on_deactivate(state)

    def on_cleanup(self, state):
        self._stop_loop()
        self.publish_safe_command()
        self._release()
        return super().on_cleanup(state)

    def on_shutdown(self, state):
        self._stop_loop()
        if self.publish_safe_command():
            confirmed = self._cmd_pub.wait_for_all_acked(
                Duration(seconds=SAFE_COMMAND_CONFIRM_TIMEOUT_S))
            if confirmed:
                self.get_logger().info('shutting down: safe command published and confirmed by '
                                       'every reliable subscriber')
            else:
                self.get_logger().warning(
                    f'shutting down: safe command published, but not confirmed by every '
                    f'reliable subscriber within {SAFE_COMMAND_CONFIRM_TIMEOUT_S:g} s (a '
                    'subscriber that stopped or a lossy link): check that the robot stopped')
        self._release()
        self.finalized.set()
        if self.finalized_callback is not None:
            self.finalized_callback()
        return super().on_shutdown(state)

    def on_error(self, state):
        self.get_logger().error(f'error while {state.label}: stopping, safe command out')
        self._stop_loop()
        self.publish_safe_command()
        self._release()
        return SUCCESS

    def _stop_loop(self):
        self._active = False
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
        if self._sim_timer is not None:
            self.destroy_timer(self._sim_timer)
            self._sim_timer = None
        if self._sensor_watch is not None:
            self.destroy_timer(self._sensor_watch)
            self._sensor_watch = None

    # -- the control tick -------------------------------------------------------------------------
    def _take_sensor_messages(self):
        """Take every queued sensor message (at most the QoS depth per topic), oldest first."""
        for sub, source, decode in self._polled:
            with sub.handle:
                while True:
                    taken = sub.handle.take_message(sub.msg_type, sub.raw)
                    if taken is None:
                        break
                    msg, info = taken
                    received = self._reception_time(info)
                    if received is not None:
                        source.on_message(msg, received, decode)

    def _reception_time(self, info):
        """When a message arrived, on the receipt clock; None if it is too old to count."""
        stamp = info.get('received_timestamp') or 0
        age = time.time_ns() - stamp if stamp > 0 else 0
        age = max(age, 0)
        if self._uses_sim_time:
            # Sim time may run at any speed: a message waiting in the queue is as recent as
            # this tick unless it has waited longer than the timeout in wall time.
            if age > self._core.sensor_timeout_s * 1e9:
                return None
            return self.get_clock().now().nanoseconds
        return monotonic_ns() - age

    def _tick(self, now_ns, dt):
        """One tick; returns the durations of its parts (loop.TICK_PARTS), in ns."""
        started = perf_counter_ns()
        self._take_sensor_messages()
        taken = perf_counter_ns()
        command, outcome = self._core.tick(now_ns, dt)
        stepped = perf_counter_ns()
        self._cmd_pub.publish(self._build_command(command))
        published = perf_counter_ns()
        self.commands_published += 1
        if outcome != Outcome.CONTROL:
            self.safe_commands += 1
        step = self._core.last_step_ns
        return taken - started, stepped - taken - step, step, published - stepped

    def _sim_tick(self):
        now = self.get_clock().now().nanoseconds
        previous, self._sim_previous_ns = self._sim_previous_ns, now
        dt = (now - previous) / 1e9 if previous is not None else self._config.period_s
        self._run_tick(now, dt)

    def _timed_tick(self, now_ns, dt):
        """A tick outside the wall-clock loop (which times its own), recorded in the stats."""
        start = monotonic_ns()
        parts = self._tick(now_ns, dt)
        self._stats.record(now_ns, monotonic_ns() - start, parts)

    def _on_primary(self, msg, source, decode):
        """trigger sensor: a message of the first source; store it, and tick unless the last
        tick was less than 1/max_rate_hz of message time ago."""
        if not self._active:
            return
        received = self._receipt_clock()()
        view = msg
        if decode is not None:
            try:
                view = decode(msg)
            except ValueError:
                source.on_message(msg, received, decode)     # counted as unreadable
                return
        source.on_message(view, received)
        stamp = getattr(getattr(view, 'header', None), 'stamp', None)
        at = stamp_to_ns(stamp) if stamp is not None else 0
        at = at or received        # no stamp: when it came
        last = self._last_trigger
        if last is None:
            dt = self._config.period_s
        else:
            dt = (at - last[0]) / 1e9
            if 0.0 < dt < 1.0 / self._config.max_rate_hz:
                return             # a burst: the observation is updated, no tick
        self._last_trigger = (at, received)
        self._run_tick(received, dt)

    def _watch_sensor(self):
        """trigger sensor: while the sensor is silent for longer than sensor_timeout_s (or
        has not started), tick anyway: the watchdog then publishes the safe command."""
        now = self._receipt_clock()()
        last = self._last_trigger
        if last is None or now - last[1] > self._core.sensor_timeout_s * 1e9:
            self._run_tick(now, self._config.period_s)

    def _run_tick(self, now_ns, dt):
        """A tick on sim time or from the sensor trigger: an exception is reported and the
        safe command goes out, and the node goes on, as with the wall-clock loop."""
        try:
            self._timed_tick(now_ns, dt)
        except Exception as exc:
            self._on_loop_error(exc)

    def _on_loop_error(self, exc):
        self._last_loop_error = f'{type(exc).__name__}: {exc}'
        self.get_logger().error(f'control tick failed: {self._last_loop_error}',
                                throttle_duration_sec=1.0)
        try:
            self.publish_safe_command()
        except Exception:
            pass

    def publish_safe_command(self):
        """Publish the safe command once, if there is a publisher. True if published."""
        if self._cmd_pub is None or self._core is None:
            return False
        self._cmd_pub.publish(self._build_command(self._core.safe_command()))
        self.safe_commands += 1
        return True

    # -- diagnostics ------------------------------------------------------------------------------
    @property
    def lifecycle_state(self):
        return self._state_machine.current_state[1]

    def diagnostics_snapshot(self, window=None):
        """The node's state as a dict (what diagnostics report). `window`: the loop timing of
        the last diagnostics period (publish_diagnostics drains it); None leaves it empty."""
        core = self._core
        s = {
            'lifecycle_state': self.lifecycle_state,
            'configure_error': self._configure_error,
            # The configured rate; before configure, the parameter (which may be invalid).
            'control_rate_hz': (self._config.control_rate_hz if self._config is not None
                                else _number(self._values['control_rate_hz'])),
            'clock': 'sim' if self._uses_sim_time else 'wall',
            'scheduling': ('executor (sim time)' if self._uses_sim_time
                           else self._scheduling or 'not running'),
            'busy_wait_us_now': (self._loop.spin_ns / 1e3 if self._loop is not None else 0.0),
            'dt_source': self._values['dt_source'],
            'trigger': self._values['trigger'],
            'window': window or {},
            'missed_total': self._stats.total_missed,
            'watchdog_tripped': bool(core and core.watchdog.tripped),
            'watchdog_trips': core.watchdog.trips if core else 0,
            'watchdog_reason': core.watchdog.reason if core else '',
            'received': self._layout.received if self._layout else 0,
            'rejected_messages': self._layout.rejected if self._layout else 0,
            'rejected_steps': core.rejected_steps if core else 0,
            'safe_commands': self.safe_commands,
            'commands_published': self.commands_published,
            'swaps': core.swaps if core else 0,
            'last_swap_error': self._last_swap_error,
            'last_rejection': '',
        }
        if core is not None:
            bound = core.controller
            s.update(model_name=bound.name, model_path=str(bound.path),
                     model_sha256=bound.sha256, arch=bound.metadata.arch)
            rejections = [src.last_rejection for src in self._layout.sources
                          if src.last_rejection]
            s['last_rejection'] = core.last_rejection or (rejections[-1] if rejections else '')
        return s

    def publish_diagnostics(self):
        """Drain the loop statistics of the last period and publish one status."""
        config = self._config
        rate = config.control_rate_hz if config else _number(self._values['control_rate_hz'])
        period_s = 1.0 / (rate if rate > 0 else cfg.SPECS['control_rate_hz'].default)
        s = self.diagnostics_snapshot(self._stats.drain(int(period_s * 1e9)))
        previous_msgs, previous_steps = self._window_rejected
        s['rejected_messages_in_window'] = s['rejected_messages'] - previous_msgs
        s['rejected_steps_in_window'] = s['rejected_steps'] - previous_steps
        self._window_rejected = (s['rejected_messages'], s['rejected_steps'])
        report = controller_report(s)
        status = DiagnosticStatus(
            level=bytes([report.level]),
            name=f'{self.get_fully_qualified_name().lstrip("/")}: {STATUS_NAME}',
            message=report.message,
            hardware_id=report.hardware_id,
            values=[KeyValue(key=k, value=v) for k, v in report.values])
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(msg)

    # -- process exit -----------------------------------------------------------------------------
    def shutdown_safely(self):
        """Final transition for process exit: stop, safe command out (acknowledged by reliable
        subscribers, up to a timeout), release. Safe to call in any state."""
        if self.lifecycle_state in ('unconfigured', 'inactive', 'active'):
            self.trigger_shutdown()
        else:
            self._stop_loop()
            self.publish_safe_command()


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _reloads_model(changes):
    """Whether a parameter change loads the model file again (a new model or a new pin)."""
    return 'model' in changes or 'model_sha256' in changes


def main(args=None):
    """`controller_node`: spin until SIGINT/SIGTERM or the lifecycle shutdown transition.

    The executor spins on its own thread and sleeps in rcl_wait until there is work (it wakes
    for services, parameters, the path and the 1 Hz diagnostics only), so it seldom holds the
    GIL; the main thread waits for a signal and then runs the shutdown transition, which
    publishes the safe command.
    """
    stop = threading.Event()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    signalled = []

    def request_stop(signum, frame):
        # Only a list append here: the handler may interrupt this thread anywhere, even
        # inside an Event's lock.
        signalled.append(signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    node = None
    executor = SingleThreadedExecutor()
    spinner = None
    return_code = 0
    executor_failures = []
    try:
        node = ControllerNode()
        node.finalized_callback = stop.set
        executor.add_node(node)
        spinner = threading.Thread(target=_spin, args=(executor, stop, executor_failures),
                                   name='executor', daemon=True)
        spinner.start()
        while not signalled and not stop.is_set():
            time.sleep(0.2)              # a signal interrupts the sleep and runs the handler
    except Exception as exc:
        print(f'{NODE_NAME}: {type(exc).__name__}: {exc}', file=sys.stderr)
        return_code = 1
    finally:
        stop.set()
        executor.shutdown(timeout_sec=5.0)
        if spinner is not None:
            spinner.join(5.0)
        if node is not None:
            node.shutdown_safely()
            node.destroy_node()
        rclpy.try_shutdown()
        ignore_stop_signals()
    # An executor that died (a callback raised) ends the node like a signal does, safe
    # command included, but the exit code says it failed.
    return 1 if executor_failures else return_code


def _spin(executor, stop, failures):
    try:
        executor.spin()
    except Exception as exc:  # ExternalShutdownException or a callback that raised
        if not stop.is_set():
            failures.append(exc)
            print(f'{NODE_NAME}: executor stopped: {type(exc).__name__}: {exc}; shutting '
                  'down with the safe command', file=sys.stderr)
    finally:
        stop.set()


if __name__ == '__main__':
    sys.exit(main())
