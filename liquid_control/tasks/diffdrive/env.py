"""The diff-drive's MuJoCo environment (the task and its rules: __init__.py)."""
from __future__ import annotations

import math

import mujoco

from liquid_control.control.path_features import PathTracker
from liquid_control.sim.env import TaskEnv
from liquid_control.sim.paths import random_path

from . import (GOAL_TOLERANCE, HOLD_SECONDS, LOST_CROSS_TRACK, MAX_CROSS_TRACK,
               PATH_LENGTH_RANGE, REFERENCE_SPEED, REST_SPEED, REST_TURN_RATE, STOP_ALLOWANCE,
               TASK)

BASE_BODY = 'base_link'
CROSS_TRACK_PENALTY = 1.0   # reward per m of cross-track error per s
GOAL_BONUS = 1.0


class DiffDriveEnv(TaskEnv):
    task = TASK
    # The rules' figures, which a variant of the task may change.
    path_length_range = PATH_LENGTH_RANGE
    max_cross_track = MAX_CROSS_TRACK
    # Each wheel's ground speed per commanded one (left, right): 1 for a calibrated drive.
    wheel_scales = (1.0, 1.0)

    def _build(self, mjspec):
        # Configured values, as the drive's parameters would state them.
        self.wheel_radius = float(mjspec.geom('left_wheel').size[0])
        self.wheel_separation = 2.0 * float(mjspec.body('left_wheel').pos[1])
        self.caster_radius = float(mjspec.geom('caster').size[0])
        # Physical values, possibly changed.
        radius = self.wheel_radius * self.physics['wheel_radius_scale']
        separation = self.wheel_separation * self.physics['wheel_separation_scale']
        for side, sign in (('left', 1.0), ('right', -1.0)):
            wheel = mjspec.geom(f'{side}_wheel')
            wheel.size = [radius, radius, wheel.size[2]]
            body = mjspec.body(f'{side}_wheel')
            body.pos = [body.pos[0], sign * 0.5 * separation, body.pos[2]]
        caster = mjspec.geom('caster')
        caster.pos = [caster.pos[0], caster.pos[1], -(radius - self.caster_radius)]
        mjspec.geom('chassis').mass *= self.physics['base_mass_scale']
        self.physical_wheel_radius = radius
        self.physical_wheel_separation = separation

    def __init__(self, physics=None, task=None):
        super().__init__(physics, task)
        self._path = None
        self.tracker = None

    def reset(self, rng):
        """New random path from the origin in a random direction; the robot starts up to
        0.1 m beside and 0.05 m along its start, heading within 0.2 rad of it."""
        start_yaw = rng.uniform(-math.pi, math.pi)
        self._path = random_path(rng, length_range=self.path_length_range,
                                 start_yaw=start_yaw)
        lateral, along = rng.uniform(-0.1, 0.1), rng.uniform(-0.05, 0.05)
        x = along * math.cos(start_yaw) - lateral * math.sin(start_yaw)
        y = along * math.sin(start_yaw) + lateral * math.cos(start_yaw)
        yaw = start_yaw + rng.uniform(-0.2, 0.2)
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:7] = (x, y, self.physical_wheel_radius,
                              math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
        self.apply(self.safe_action())
        mujoco.mj_forward(self.model, self.data)
        self.tracker = PathTracker(self._path)
        self.arrival_limit = self.tracker.length / REFERENCE_SPEED
        self.time_limit = self.arrival_limit + HOLD_SECONDS + STOP_ALLOWANCE
        self.last_dt = 0.0
        self._features = None
        self._features_key = None
        self._progress_gain = 0.0
        self._sum_abs_cte = 0.0
        self._max_abs_cte = 0.0
        self._elapsed = 0.0
        self.goal_time = None            # first within GOAL_TOLERANCE of the end
        self.rest_time = None            # at rest at the goal since (None: not at rest there)
        self.held = False                # at rest at the goal for HOLD_SECONDS, now
        self.hold_completed = False      # ... at some time this episode
        self.lost = False
        self._update_tracking()

    def _set_control(self, action):
        v, omega = action
        half = 0.5 * self.wheel_separation * omega
        left, right = self.wheel_scales
        self.data.ctrl[:] = (left * (v - half) / self.wheel_radius,
                             right * (v + half) / self.wheel_radius)

    # --- state a ROS sim node publishes ------------------------------------------------
    def pose(self):
        """(x, y, yaw) of base_link in the world."""
        return self.body_pose2d(BASE_BODY)

    def twist(self):
        """(v, omega): forward speed along base_link x and yaw rate, as odometry reports."""
        return self.body_twist2d(BASE_BODY)

    def path(self):
        """The episode's path, (N, 2), for the PlannedPath output (/plan)."""
        return self._path.copy()

    def goal(self):
        return self._path[-1].copy()

    # --- task -----------------------------------------------------------------------
    def observe(self):
        # Computed once per state: the runner observes right after advance() has already
        # measured the same state for the metrics.
        key = (self.data.time, self.data.qpos.tobytes(), self.data.qvel.tobytes())
        if key != self._features_key:
            x, y, yaw = self.pose()
            v, omega = self.twist()
            self._features = self.tracker.features((x, y), yaw, v, omega)
            self._features_key = key
        return self._features.copy()

    def _update_tracking(self):
        before = self.tracker.progress
        cte = abs(self.observe()[0])
        self._progress_gain = self.tracker.progress - before
        self._sum_abs_cte += cte * self.last_dt
        self._elapsed += self.last_dt
        self._max_abs_cte = max(self._max_abs_cte, cte)
        self._last_abs_cte = cte
        x, y, _ = self.pose()
        self.goal_distance = float(math.hypot(*(self._path[-1] - (x, y))))
        at_goal = self.goal_distance < GOAL_TOLERANCE
        if self.goal_time is None and at_goal:
            self.goal_time = self.time
        v, omega = self.twist()
        if at_goal and abs(v) < REST_SPEED and abs(omega) < REST_TURN_RATE:
            if self.rest_time is None:
                self.rest_time = self.time
        else:
            self.rest_time = None
        self.held = self.rest_time is not None and \
            self.time - self.rest_time >= HOLD_SECONDS - 1e-9
        self._held_now = self.held and not self.hold_completed
        self.hold_completed = self.hold_completed or self.held
        if cte > LOST_CROSS_TRACK:
            self.lost = True

    def _after_advance(self, dt):
        self._update_tracking()

    def done(self):
        # Not at the first hold: staying stopped until the time limit is part of the task.
        return self.lost or self.time >= self.time_limit - 1e-9

    def metrics(self):
        arrived = self.goal_time is not None and self.goal_time <= self.arrival_limit + 1e-9
        v, omega = self.twist()
        return {
            'success': bool(arrived and self.held and self._max_abs_cte < self.max_cross_track),
            'tracking_error': self._sum_abs_cte / self._elapsed if self._elapsed else
            self._max_abs_cte,
            'max_tracking_error': self._max_abs_cte,
            'reached_goal': self.goal_time is not None,
            'goal_time': math.nan if self.goal_time is None else self.goal_time,
            'rest_time': math.nan if self.rest_time is None else self.rest_time,
            'stopped_at_goal': self.held,         # and still at rest there now
            # From first arriving to coming to rest there for good (nan: not at rest).
            'stop_seconds': math.nan if self.goal_time is None or self.rest_time is None
            else self.rest_time - self.goal_time,
            'goal_distance': self.goal_distance,
            'speed': v,
            'yaw_rate': omega,
            'lost': self.lost,
            'path_length': self.tracker.length,
            'arrival_limit': self.arrival_limit,
            'time_limit': self.time_limit,
            'time': self.time,
        }

    def reward(self):
        """Per tick: metres of progress along the path, minus cross-track error x dt, plus a
        bonus when the robot has stopped at the goal for the whole hold."""
        return self._progress_gain - CROSS_TRACK_PENALTY * self._last_abs_cte * self.last_dt \
            + (GOAL_BONUS if self._held_now else 0.0)
