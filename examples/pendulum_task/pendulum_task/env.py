"""The pendulum in MuJoCo: start states, observation, success and return."""
from __future__ import annotations

import math

import mujoco
import numpy as np

from liquid_control.sim.env import FinalWindow, TaskEnv, wrap_angle

from . import SUCCESS_WINDOW, TASK, UPRIGHT_TOLERANCE


class PendulumEnv(TaskEnv):
    task = TASK

    def _build(self, spec):
        rod = spec.geom('rod')
        rod.fromto = np.asarray(rod.fromto) * self.physics['length_scale']
        rod.mass *= self.physics['mass_scale']

    def reset(self, rng):
        """Near hanging: pi +- 0.3 rad, at most 0.5 rad/s."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[0] = math.pi + rng.uniform(-0.3, 0.3)
        self.data.qvel[0] = rng.uniform(-0.5, 0.5)
        self.apply(self.safe_action())
        mujoco.mj_forward(self.model, self.data)
        self._window = FinalWindow(SUCCESS_WINDOW)      # |angle from upright| per tick
        self._first_upright = math.nan
        self.last_dt = 0.0

    def observe(self):
        return np.array([self.data.qpos[0], self.data.qvel[0]])

    def _after_advance(self, dt):
        angle = abs(wrap_angle(self.data.qpos[0]))
        self._window.add(self.time, dt, angle)
        if angle < UPRIGHT_TOLERANCE and math.isnan(self._first_upright):
            self._first_upright = self.time

    def metrics(self):
        judged = self._window.judged(self.time)
        error = self._window.mean() if judged else math.pi
        worst = self._window.max() if judged else math.pi
        return {'success': bool(judged and worst < UPRIGHT_TOLERANCE),
                'tracking_error': error, 'max_tracking_error': worst,
                'first_upright_time': self._first_upright, 'time': self.time}

    def reward(self):
        return 0.5 * (1.0 + math.cos(self.data.qpos[0])) * self.last_dt
