"""Differential-drive path following (sim/assets/diffdrive.xml).

Action: body twist (linear.x m/s, angular.z rad/s), turned into wheel speeds by the inverse
kinematics of the *configured* wheel radius and separation, as Gazebo's DiffDrive system
does; `physics` may make the real wheels differ from that configuration. Observation: the
path features of liquid_control.control.path_features from the true pose and body velocities.
Each reset draws a new random path starting near the robot. Success = reaching within
GOAL_TOLERANCE of the path's end before time_limit (path length / REFERENCE_SPEED) while
never straying more than MAX_CROSS_TRACK from the path.
"""
from __future__ import annotations

import math

import mujoco
import numpy as np

from liquid_control.control.path_features import PathTracker
from liquid_control.tasks.spec import DIFFDRIVE

from .env import MujocoEnv
from .paths import random_path

GOAL_TOLERANCE = 0.25       # m from the path's last point
MAX_CROSS_TRACK = 0.3       # m; a successful episode never exceeds it
LOST_CROSS_TRACK = 1.0      # m; the episode ends, failed
REFERENCE_SPEED = 0.3       # m/s; the time limit is path length / this
PATH_LENGTH_RANGE = (6.0, 10.0)   # m
CROSS_TRACK_PENALTY = 1.0   # reward per m of cross-track error per s
GOAL_BONUS = 1.0


class DiffDriveEnv(MujocoEnv):
    spec = DIFFDRIVE
    asset = 'diffdrive'
    physics_defaults = {'wheel_radius_scale': 1.0, 'wheel_separation_scale': 1.0,
                        'base_mass_scale': 1.0}
    wheel_joint_names = ('left_wheel_joint', 'right_wheel_joint')
    # Each reset sets the episode's own limit (its path length / REFERENCE_SPEED); the class
    # value is the longest any episode can need, for callers that want one horizon.
    time_limit = PATH_LENGTH_RANGE[1] / REFERENCE_SPEED
    # Typical spread of each observation: std over 40 expert episodes, rounded. The unit of
    # observation noise.
    obs_scale = np.array([0.02, 0.04, 0.3, 0.3, 0.3, 1.0, 0.17, 0.22])

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

    def __init__(self, physics=None):
        super().__init__(physics)
        self._wheel_qpos = [self.model.joint(n).qposadr[0] for n in self.wheel_joint_names]
        self._wheel_qvel = [self.model.joint(n).dofadr[0] for n in self.wheel_joint_names]
        self._path = None
        self.tracker = None

    def reset(self, rng):
        """New random path from the origin in a random direction; the robot starts up to
        0.1 m beside and 0.05 m along its start, heading within 0.2 rad of it."""
        start_yaw = rng.uniform(-math.pi, math.pi)
        self._path = random_path(rng, length_range=PATH_LENGTH_RANGE, start_yaw=start_yaw)
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
        self.time_limit = self.tracker.length / REFERENCE_SPEED
        self.last_dt = 0.0
        self._features = None
        self._features_key = None
        self._progress_gain = 0.0
        self._sum_abs_cte = 0.0
        self._max_abs_cte = 0.0
        self._elapsed = 0.0
        self.goal_time = None
        self.lost = False
        self._update_tracking()

    def _set_control(self, action):
        v, omega = action
        half = 0.5 * self.wheel_separation * omega
        self.data.ctrl[:] = ((v - half) / self.wheel_radius, (v + half) / self.wheel_radius)

    # --- state a ROS sim node publishes ------------------------------------------------
    def pose(self):
        """(x, y, yaw) of base_link in the world."""
        w, qx, qy, qz = self.data.qpos[3:7]
        yaw = math.atan2(2.0 * (w * qz + qx * qy), 1.0 - 2.0 * (qy * qy + qz * qz))
        return float(self.data.qpos[0]), float(self.data.qpos[1]), yaw

    def twist(self):
        """(v, omega): forward speed along base_link x and yaw rate, as odometry reports."""
        _, _, yaw = self.pose()
        vx, vy = self.data.qvel[0], self.data.qvel[1]          # world frame
        return float(math.cos(yaw) * vx + math.sin(yaw) * vy), float(self.data.qvel[5])

    def path(self):
        return self._path.copy()

    def goal(self):
        return self._path[-1].copy()

    def wheel_positions(self):
        return self.data.qpos[self._wheel_qpos].copy()

    def wheel_velocities(self):
        return self.data.qvel[self._wheel_qvel].copy()

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
        if self.goal_time is None and self.goal_distance < GOAL_TOLERANCE:
            self.goal_time = self.time
            self._reached_now = True
        else:
            self._reached_now = False
        if cte > LOST_CROSS_TRACK:
            self.lost = True

    def _after_advance(self, dt):
        self._update_tracking()

    def done(self):
        return self.goal_time is not None or self.lost

    def metrics(self):
        reached = self.goal_time is not None and self.goal_time <= self.time_limit + 1e-9
        return {
            'success': bool(reached and self._max_abs_cte < MAX_CROSS_TRACK),
            'tracking_error': self._sum_abs_cte / self._elapsed if self._elapsed else
            self._max_abs_cte,
            'max_tracking_error': self._max_abs_cte,
            'reached_goal': self.goal_time is not None,
            'goal_time': self.goal_time,
            'goal_distance': self.goal_distance,
            'lost': self.lost,
            'path_length': self.tracker.length,
            'time_limit': self.time_limit,
            'time': self.time,
        }

    def reward(self):
        """Per tick: metres of progress along the path, minus cross-track error x dt, plus a
        bonus on reaching the goal."""
        return self._progress_gain - CROSS_TRACK_PENALTY * self._last_abs_cte * self.last_dt \
            + (GOAL_BONUS if self._reached_now else 0.0)
