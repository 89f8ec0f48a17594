"""The simulator behind `sim_node`, without ROS: physics, held commands, sensor faults.

`SimCore` owns one MuJoCo task (liquid_control.sim) and a simulated clock in integer
nanoseconds that never runs backwards (an episode reset starts a new episode at the current
clock). It is single-threaded: the node's loop thread calls it.

  - commands: `command(values)` validates (length, finite), clips to the task's limits and
    holds the command until the next one; after `command_timeout_s` of sim time without one
    the command falls back to zero, as ros2_control / Gazebo setups with a command timeout do.
  - sensors: `sample()` measures the state at the current clock, adds Gaussian noise, delays
    it by `sensor_latency_s` and drops it with `drop_probability`; it returns the messages
    due for publishing now (plain data: JointSample, OdomSample, PathSample).
  - time: `advance_to(clock_ns)` integrates whole physics steps up to that clock. With
    `wait_for_controller` the physics stays paused (the clock still runs, so a controller on
    sim time can tick) until the first valid command starts the episode.

All randomness (episode start states, noise, drops) comes from `seed`, so a lockstep run is
reproducible.
"""
from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

from liquid_control.tasks.spec import get_task

from .topics import CARTPOLE_JOINTS, DIFFDRIVE_WHEEL_JOINTS

NS = 1_000_000_000


def env_class(task):
    """The MuJoCo task class (imported here: mujoco is needed only when simulating)."""
    if task == 'cartpole':
        from .cartpole import CartPoleEnv
        return CartPoleEnv
    if task == 'diffdrive':
        from .diffdrive import DiffDriveEnv
        return DiffDriveEnv
    get_task(task)   # raises the standard unknown-task error
    raise ValueError(f'no simulator for task {task!r}')


def physics_defaults(task):
    """Names and default values of the physics changes the task's simulator accepts."""
    return dict(env_class(task).physics_defaults)


@dataclass
class SimConfig:
    task: str = 'cartpole'
    seed: int = 0
    publish_rate_hz: float = 50.0          # sensors and /clock, per second of sim time
    command_timeout_s: float = 0.5         # sim time; <= 0 holds the last command forever
    position_noise_std: float = 0.0        # m or rad: joint positions, odometry x, y, yaw
    velocity_noise_std: float = 0.0        # m/s or rad/s: joint velocities, odometry twist
    sensor_latency_s: float = 0.0          # sim time between measuring and publishing
    drop_probability: float = 0.0          # of each sensor message (never the path)
    physics: dict = field(default_factory=dict)   # e.g. {'pole_mass_scale': 1.5}
    wait_for_controller: bool = True       # physics paused until the first valid command
    run_duration_s: float = 0.0            # of episode sim time; 0 = run until stopped
    end_on_done: bool = False              # finish when the task says the episode is over
    plan_period_s: float = 1.0             # diff-drive: republish /plan this often

    def validate(self):
        get_task(self.task)
        checks = [
            (self.publish_rate_hz > 0 and math.isfinite(self.publish_rate_hz),
             'publish_rate_hz must be > 0'),
            (math.isfinite(self.command_timeout_s), 'command_timeout_s must be finite'),
            (self.position_noise_std >= 0, 'position_noise_std must be >= 0'),
            (self.velocity_noise_std >= 0, 'velocity_noise_std must be >= 0'),
            (0.0 <= self.sensor_latency_s < 10.0, 'sensor_latency_s must be in [0, 10)'),
            (0.0 <= self.drop_probability < 1.0, 'drop_probability must be in [0, 1)'),
            (self.run_duration_s >= 0, 'run_duration_s must be >= 0'),
            (self.plan_period_s > 0, 'plan_period_s must be > 0'),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        return self


@dataclass
class JointSample:
    stamp_ns: int
    names: tuple
    position: list
    velocity: list
    effort: list


@dataclass
class OdomSample:
    stamp_ns: int
    x: float
    y: float
    yaw: float
    v: float
    omega: float
    position_variance: float
    velocity_variance: float


@dataclass
class PathSample:
    stamp_ns: int
    xy: np.ndarray      # (N, 2), odom frame


class CommandRejected(ValueError):
    """A command that is never applied; the text says why."""


class SimCore:
    def __init__(self, config):
        self.config = config.validate()
        self.spec = get_task(config.task)
        self.env = env_class(config.task)(physics=dict(config.physics))
        self.physics_dt_ns = int(round(self.env.physics_dt * NS))
        self.period_ns = int(round(NS / config.publish_rate_hz))
        self.low = np.asarray(self.spec.action_low, dtype=np.float64)
        self.high = np.asarray(self.spec.action_high, dtype=np.float64)
        self.zero = np.clip(np.zeros(self.spec.n_act), self.low, self.high)
        self._episode_rng = np.random.default_rng([int(config.seed), 0])
        self._noise_rng = np.random.default_rng([int(config.seed), 1])
        self._drop_rng = np.random.default_rng([int(config.seed), 2])
        self.clock_ns = 0
        self.counts = Counter()
        self.episode = -1
        self.last_rejection = ''
        self._pending = deque()          # (release clock ns, sample) awaiting latency
        self.reset()

    # -- episodes ---------------------------------------------------------------------------
    def rebuild(self, physics):
        """Replace the simulated model with one under new physics changes (call reset next).
        Raises ValueError for unknown names or non-positive scales; the old model stays."""
        env = env_class(self.config.task)(physics=dict(physics))
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
        self._pending.clear()
        self._next_plan_ns = self.clock_ns
        self.path_changed = True

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
        if values.shape != (self.spec.n_act,):
            raise CommandRejected(f'{self.spec.name} takes {self.spec.n_act} command value(s) '
                                  f'({", ".join(self.spec.action_names)}); got {values.size}')
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
        """What the actuator gets now: the held command, or zero after the timeout."""
        timeout = self.config.command_timeout_s
        if self.command_ns is not None and timeout > 0 \
                and self.clock_ns - self.command_ns > timeout * NS:
            if not self.timed_out:
                self.timed_out = True
                self.counts['command_timeouts'] += 1
            return self.zero
        return self.held

    # -- time -------------------------------------------------------------------------------
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

    # -- sensors ----------------------------------------------------------------------------
    def _noise(self, values, std):
        values = np.asarray(values, dtype=np.float64)
        if std > 0:
            values = values + self._noise_rng.normal(0.0, std, values.shape)
        return values

    def _measure(self):
        """Noisy measurements of the current state, stamped with the current clock."""
        cfg, env, stamp = self.config, self.env, self.clock_ns
        if self.spec.name == 'cartpole':
            effort = self.applied_command()
            return [JointSample(
                stamp, CARTPOLE_JOINTS,
                self._noise(env.joint_positions(), cfg.position_noise_std).tolist(),
                self._noise(env.joint_velocities(), cfg.velocity_noise_std).tolist(),
                [float(effort[0]), 0.0])]
        x, y, yaw = (float(v) for v in env.pose())
        v, omega = (float(v) for v in env.twist())
        px, py, pyaw = self._noise([x, y, yaw], cfg.position_noise_std)
        pv, pomega = self._noise([v, omega], cfg.velocity_noise_std)
        yaw = float(math.remainder(pyaw, 2 * math.pi))
        samples = [OdomSample(stamp, float(px), float(py), yaw, float(pv), float(pomega),
                              cfg.position_noise_std ** 2, cfg.velocity_noise_std ** 2)]
        wheels = self.wheel_states()
        if wheels is not None:
            positions, velocities = wheels
            samples.append(JointSample(
                stamp, DIFFDRIVE_WHEEL_JOINTS,
                self._noise(positions, cfg.position_noise_std).tolist(),
                self._noise(velocities, cfg.velocity_noise_std).tolist(), [0.0, 0.0]))
        return samples

    def wheel_states(self):
        """(positions, velocities) of the left and right wheel joints, if the task has them."""
        env = self.env
        if hasattr(env, 'wheel_positions') and hasattr(env, 'wheel_velocities'):
            return list(env.wheel_positions()), list(env.wheel_velocities())
        return None

    def sample(self):
        """Sensor messages to publish at the current clock (after latency and drops), plus
        the path when it is due. The path is neither delayed nor dropped."""
        for s in self._measure():
            self._pending.append((self.clock_ns + int(self.config.sensor_latency_s * NS), s))
        out = []
        while self._pending and self._pending[0][0] <= self.clock_ns:
            _, s = self._pending.popleft()
            if self.config.drop_probability > 0 and \
                    self._drop_rng.random() < self.config.drop_probability:
                self.counts['sensor_messages_dropped'] += 1
                continue
            self.counts['sensor_messages_published'] += 1
            out.append(s)
        if self.spec.name == 'diffdrive' and (self.path_changed or
                                              self.clock_ns >= self._next_plan_ns):
            out.append(PathSample(self.clock_ns, np.asarray(self.env.path(), dtype=np.float64)))
            self.path_changed = False
            self._next_plan_ns = self.clock_ns + int(self.config.plan_period_s * NS)
        return out

    # -- status -----------------------------------------------------------------------------
    def metrics(self):
        """The task's episode metrics (success, tracking error, ...) from the simulator."""
        return dict(self.env.metrics())

    def status(self):
        """Plain values for diagnostics."""
        return {
            'task': self.spec.name,
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
