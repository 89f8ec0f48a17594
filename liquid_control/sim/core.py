"""The simulator behind `sim_node`, without ROS: physics, held commands, sensor faults.

`SimCore` simulates one task (a liquid_control Task: its environment, and the outputs and
command of its SimIO; sim_node finds it by name), or any MJCF file without a task
(sim.robot.RobotEnv: /joint_states for every joint, effort commands for the actuators). It
keeps a simulated clock in integer nanoseconds that never runs backwards (an episode reset
starts a new episode at the current clock). It is single-threaded: the node's loop thread
calls it.

  - commands: `command(values)` validates (length, finite), clips to the limits and holds
    the command until the next one; after `command_timeout_s` of sim time without one the
    command falls back to zero, as ros2_control / Gazebo setups with a command timeout do.
    `actuator_noise_std` adds a slowly varying disturbance to what the actuators apply.
  - outputs: `sample()` measures the state at the current clock through each output; a
    measurement gets Gaussian noise, is delayed by `sensor_latency_s` and dropped with
    `drop_probability`; an output with a period (a path) is published at each episode start
    and then every period, never delayed or dropped. It returns the (output, sample) pairs
    due for publishing now (plain data, see ros_io).
  - sampling: `next_period_ns()` is the sim time to the next publication: the publish
    period (`sample_timing` periodic), that period x (1 + U(-j, j)) (jitter, j =
    `sample_jitter`), or an exponential interval of that mean (poisson: event-driven
    sensors); irregular intervals are whole physics steps, at least one.
  - time: `advance_to(clock_ns)` integrates whole physics steps up to that clock. With
    `wait_for_controller` the physics stays paused (the clock still runs, so a controller on
    sim time can tick) until the first valid command starts the episode.

All randomness (episode start states, noise, drops, disturbances) comes from `seed`, so a
lockstep run is reproducible.
"""
from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .ros_io import CommandRejected, SimIO

NS = 1_000_000_000
SAMPLE_TIMINGS = ('periodic', 'jitter', 'poisson')


@dataclass
class SimConfig:
    task: object = None                    # a Task, or
    model_file: str = ''                   # an MJCF file simulated without a task
    seed: int = 0
    publish_rate_hz: float = 50.0          # sensors and /clock, per second of sim time
    command_timeout_s: float = 0.5         # sim time; <= 0 holds the last command forever
    position_noise_std: float = 0.0        # m or rad: joint positions, odometry x, y, yaw
    velocity_noise_std: float = 0.0        # m/s or rad/s: joint velocities, odometry twist
    sensor_latency_s: float = 0.0          # sim time between measuring and publishing
    drop_probability: float = 0.0          # of each measurement (never a periodic output)
    actuator_noise_std: float = 0.0        # fraction of each actuator's half range
    actuator_noise_tau_s: float = 0.5      # its correlation time (0: white per interval)
    physics: dict = field(default_factory=dict)   # e.g. {'pole_mass_scale': 1.5}
    wait_for_controller: bool = True       # physics paused until the first valid command
    run_duration_s: float = 0.0            # of episode sim time; 0 = run until stopped
    end_on_done: bool = False              # finish when the task says the episode is over
    output_periods: dict = field(default_factory=dict)   # e.g. {'plan_period_s': 1.0}
    sample_timing: str = 'periodic'        # periodic | jitter | poisson (see next_period_ns)
    sample_jitter: float = 0.0             # jitter: each interval period * (1 + U(-j, j))

    def validate(self):
        if (self.task is None) == (not self.model_file):
            what = 'both' if self.task is not None else 'neither'
            raise ValueError(f'{what} of task and model_file given: simulate a task or an MJCF '
                             'file without one')
        if self.task is None and self.physics:
            raise ValueError('physics changes need a task (an MJCF file has none)')
        checks = [
            (self.publish_rate_hz > 0 and math.isfinite(self.publish_rate_hz),
             'publish_rate_hz must be > 0'),
            (math.isfinite(self.command_timeout_s), 'command_timeout_s must be finite'),
            (self.position_noise_std >= 0, 'position_noise_std must be >= 0'),
            (self.velocity_noise_std >= 0, 'velocity_noise_std must be >= 0'),
            (0.0 <= self.sensor_latency_s < 10.0, 'sensor_latency_s must be in [0, 10)'),
            (0.0 <= self.drop_probability < 1.0, 'drop_probability must be in [0, 1)'),
            (self.actuator_noise_std >= 0, 'actuator_noise_std must be >= 0'),
            (self.actuator_noise_tau_s >= 0, 'actuator_noise_tau_s must be >= 0'),
            (self.run_duration_s >= 0, 'run_duration_s must be >= 0'),
            (self.sample_timing in SAMPLE_TIMINGS,
             f'sample_timing must be one of {", ".join(SAMPLE_TIMINGS)}; got '
             f'{self.sample_timing!r}'),
            (0.0 <= self.sample_jitter < 1.0, 'sample_jitter must be in [0, 1)'),
        ] + [(value >= 0, f'{name} must be >= 0 (0: only when an episode starts)')
             for name, value in self.output_periods.items()]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        return self


def simulated(config, physics=None):
    """(environment, SimIO, name, physics defaults) of what `config` simulates."""
    if config.task is not None:
        task = config.task
        return task.make_env(physics), task.sim_io, task.name, task.physics_defaults
    from .robot import RobotEnv
    return RobotEnv(config.model_file), SimIO(), Path(config.model_file).stem, {}


class Noise:
    """Gaussian sensor noise with the simulator's current settings (live parameters)."""

    def __init__(self, config, rng):
        self._config = config
        self._rng = rng

    @property
    def position_std(self):
        return self._config.position_noise_std

    @property
    def velocity_std(self):
        return self._config.velocity_noise_std

    def _add(self, values, std):
        values = np.asarray(values, dtype=np.float64)
        if std > 0:
            values = values + self._rng.normal(0.0, std, values.shape)
        return values

    def position(self, values):
        return self._add(values, self.position_std)

    def velocity(self, values):
        return self._add(values, self.velocity_std)


class SimCore:
    def __init__(self, config):
        self.config = config.validate()
        self.env, self.io, self.name, self.physics_defaults = simulated(
            config, dict(config.physics))
        self.physics_dt_ns = int(round(self.env.physics_dt * NS))
        self.period_ns = int(round(NS / config.publish_rate_hz))
        self.action_names = tuple(self.env.action_names)
        self.low = np.asarray(self.env.action_low, dtype=np.float64)
        self.high = np.asarray(self.env.action_high, dtype=np.float64)
        self.zero = np.clip(np.zeros(len(self.action_names)), self.low, self.high)
        self._episode_rng = np.random.default_rng([int(config.seed), 0])
        self._noise = Noise(config, np.random.default_rng([int(config.seed), 1]))
        self._drop_rng = np.random.default_rng([int(config.seed), 2])
        self._actuator_rng = np.random.default_rng([int(config.seed), 3])
        self._timing_rng = np.random.default_rng([int(config.seed), 4])
        self._disturbance = np.zeros(len(self.action_names))   # in units of the half range
        self._measured = self.io.measured
        self._periodic = [o for o in self.io.outputs if o.period is not None]
        self.clock_ns = 0
        self.counts = Counter()
        self.episode = -1
        self.last_rejection = ''
        self._pending = deque()          # (release clock ns, output, sample) awaiting latency
        self.reset()

    # -- episodes ---------------------------------------------------------------------------
    def rebuild(self, physics):
        """Replace the simulated model with one under new physics changes (call reset next).
        Raises ValueError for unknown names or non-positive scales; the old model stays."""
        env, *_ = simulated(self.config, dict(physics))
        self.env = env
        self.config.physics = dict(physics)
        self.physics_dt_ns = int(round(env.physics_dt * NS))

    def reset(self, restart_clock=False):
        """Start a new episode at the current clock, or with restart_clock at time 0 (as a
        Gazebo world reset does: /clock jumps backwards)."""
        if restart_clock:
            self.clock_ns = 0
        self.env.reset(self._episode_rng)
        self.episode += 1
        self.episode_start_ns = self.clock_ns
        self._steps = 0                  # physics steps taken this episode
        self.running = not self.config.wait_for_controller
        self.finished = False
        self.held = self.zero.copy()
        self.command_ns = None           # clock when the held command arrived
        self.timed_out = False
        self._disturbance[:] = 0.0
        self._pending.clear()
        self._last_periodic_ns = {output: None for output in self._periodic}   # not yet

    @property
    def episode_time(self):
        """Sim time since the episode started (0 while waiting for the controller)."""
        return self._steps * self.physics_dt_ns / NS

    # -- commands ---------------------------------------------------------------------------
    def check_command(self, values):
        """The command as a float64 vector within limits, or CommandRejected.

        Returns (vector, clipped) where clipped says whether a limit was applied.
        """
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        n = len(self.action_names)
        if values.shape != (n,):
            raise CommandRejected(f'{self.name} takes {n} command value(s) '
                                  f'({", ".join(self.action_names)}); got {values.size}')
        if not np.all(np.isfinite(values)):
            raise CommandRejected(f'non-finite command {values.tolist()}')
        clipped = np.clip(values, self.low, self.high)
        return clipped, bool(np.any(clipped != values))

    def reject(self, reason):
        """Count a command refused before it reached the core (e.g. a malformed message)."""
        self.counts['commands_rejected'] += 1
        self.last_rejection = str(reason)

    def command(self, values):
        """Hold a new command from now on; returns False (and counts) if it was rejected."""
        try:
            vector, clipped = self.check_command(values)
        except CommandRejected as exc:
            self.reject(exc)
            return False
        self.counts['commands_received'] += 1
        if clipped:
            self.counts['commands_clipped'] += 1
        self.held = vector
        self.command_ns = self.clock_ns
        self.timed_out = False
        if not self.running and not self.finished:
            self.running = True
            self.episode_start_ns = self.clock_ns
        return True

    def applied_command(self):
        """What the actuator gets now: the held command plus the actuator disturbance,
        within the limits, or zero after the timeout."""
        timeout = self.config.command_timeout_s
        if self.command_ns is not None and timeout > 0 \
                and self.clock_ns - self.command_ns > timeout * NS:
            if not self.timed_out:
                self.timed_out = True
                self.counts['command_timeouts'] += 1
            return self.zero
        if self.config.actuator_noise_std > 0:
            half = (self.high - self.low) / 2
            return np.clip(self.held + self._disturbance * half, self.low, self.high)
        return self.held

    def _disturb(self, dt_ns):
        """Advance the actuator disturbance by dt_ns: an Ornstein-Uhlenbeck process of
        std actuator_noise_std (of each half range) and correlation time actuator_noise_tau_s,
        as an unmodelled load or a motor's torque error. What the controller commanded is
        unchanged (a recording keeps it): the robot is pushed off the commanded course."""
        std, tau = self.config.actuator_noise_std, self.config.actuator_noise_tau_s
        if std <= 0:
            self._disturbance[:] = 0.0
            return
        keep = math.exp(-dt_ns / (tau * NS)) if tau > 0 else 0.0
        self._disturbance = keep * self._disturbance + std * math.sqrt(1.0 - keep * keep) * \
            self._actuator_rng.standard_normal(self._disturbance.shape)

    # -- time -------------------------------------------------------------------------------
    def next_period_ns(self):
        """Sim time from this publication to the next (see the module docstring)."""
        timing = self.config.sample_timing
        if timing == 'periodic':
            return self.period_ns
        if timing == 'jitter':
            j = self.config.sample_jitter
            interval = self.period_ns * (1.0 + self._timing_rng.uniform(-j, j))
        else:
            interval = self._timing_rng.exponential(self.period_ns)
        return max(1, round(interval / self.physics_dt_ns)) * self.physics_dt_ns

    def advance_to(self, clock_ns):
        """Move the clock to clock_ns, integrating the physics if the episode is running.

        The physics advances whole steps; the timeout is checked at the start and again at
        the moment it expires within the interval, so zero takes over on time.
        """
        clock_ns = int(clock_ns)
        if clock_ns <= self.clock_ns:
            return
        if not self.running or self.finished:
            self.clock_ns = clock_ns
            if not self.running:
                self.episode_start_ns = clock_ns
            return
        timeout = self.config.command_timeout_s
        while self.clock_ns < clock_ns:
            end = clock_ns
            if (self.command_ns is not None and timeout > 0 and not self.timed_out):
                expiry = self.command_ns + int(timeout * NS) + 1
                if self.clock_ns < expiry < end:
                    end = expiry
            if self.config.run_duration_s > 0:
                end = min(end, self.episode_start_ns + int(self.config.run_duration_s * NS))
            self._disturb(end - self.clock_ns)
            self.env.apply(self.applied_command())
            target = (end - self.episode_start_ns) // self.physics_dt_ns
            n = target - self._steps
            if n > 0:
                self.env.advance(n * self.env.physics_dt)
                self._steps += n
            self.clock_ns = end
            if (self.config.run_duration_s > 0 and self.clock_ns - self.episode_start_ns
                    >= self.config.run_duration_s * NS) or \
                    (self.config.end_on_done and self.env.done()):
                self.finished = True
                self.clock_ns = clock_ns
                break

    # -- outputs ----------------------------------------------------------------------------
    def sample(self):
        """(output, sample) pairs to publish at the current clock: measurements after
        latency and drops, and each periodic output when it is due."""
        latency_ns = int(self.config.sensor_latency_s * NS)
        for output in self._measured:
            self._pending.append((self.clock_ns + latency_ns, output,
                                  output.sample(self.env, self._noise, self.clock_ns)))
        out = []
        while self._pending and self._pending[0][0] <= self.clock_ns:
            _, output, sample = self._pending.popleft()
            if self.config.drop_probability > 0 and \
                    self._drop_rng.random() < self.config.drop_probability:
                self.counts['sensor_messages_dropped'] += 1
                continue
            self.counts['sensor_messages_published'] += 1
            out.append((output, sample))
        for output in self._periodic:
            # Due at the episode start and then every period (read each time, so a changed
            # period applies at once); a period of 0 publishes only at the episode start.
            last = self._last_periodic_ns[output]
            period = self.config.output_periods.get(output.period.name, output.period.default)
            if last is None or (period > 0 and self.clock_ns - last >= int(period * NS)):
                sample = output.sample(self.env, self._noise, self.clock_ns)
                sample.key = self.episode          # one path (message) per episode
                out.append((output, sample))
                self._last_periodic_ns[output] = self.clock_ns
        return out

    # -- status -----------------------------------------------------------------------------
    def metrics(self):
        """The task's episode metrics (success, tracking error, ...) from the simulator."""
        return dict(self.env.metrics())

    def status(self):
        """Plain values for diagnostics."""
        return {
            'task': self.name,
            'episode': self.episode,
            'running': self.running,
            'finished': self.finished,
            'sim_time': self.clock_ns / NS,
            'episode_time': self.episode_time,
            'episode_start': self.episode_start_ns / NS,
            'done': bool(self.env.done()),
            'held_command': [float(v) for v in self.held],
            'command_timed_out': self.timed_out,
            **{k: self.counts[k] for k in (
                'commands_received', 'commands_rejected', 'commands_clipped',
                'command_timeouts', 'sensor_messages_published', 'sensor_messages_dropped')},
            'last_rejection': self.last_rejection,
        }
