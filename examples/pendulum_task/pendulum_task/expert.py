"""The pendulum's expert: energy pumping, then LQR about upright. It reads only the
observation (angle, angular velocity) and keeps no state."""
from __future__ import annotations

import math

import numpy as np

from liquid_control.sim.env import wrap_angle
from liquid_control.sim.lqr import dlqr, linearise

from . import TASK
from .env import PendulumEnv


class PendulumExpert:
    catch_angle = 0.4          # rad of |wrapped angle| below which LQR balances
    energy_gain = 2.0          # N m per J of energy error
    energy_margin = 0.05       # pump slightly above the upright energy (J per J of swing)

    def __init__(self, physics=None, q=(20.0, 1.0), r=0.5):
        env = PendulumEnv(physics)
        model = env.model
        a, b = linearise(model, np.zeros(1), np.zeros(1), np.zeros(1), TASK.nominal_dt)
        self.gain = dlqr(a, b, np.diag(q), np.array([[r]]))[0]
        rod = model.body('rod').id
        mass, com = float(model.body_mass[rod]), float(model.body_ipos[rod][2])
        self.inertia = float(model.body_inertia[rod][1]) + mass * com ** 2
        self.mgl = mass * float(-model.opt.gravity[2]) * com
        self.limit = TASK.action_high[0]

    def reset(self):
        pass

    def energy(self, angle, rate):
        """Relative to resting upright: 0 upright, -2 m g l hanging."""
        return 0.5 * self.inertia * rate ** 2 + self.mgl * (math.cos(angle) - 1.0)

    def act(self, obs, dt):
        angle, rate = (float(v) for v in obs)
        error = wrap_angle(angle)
        if abs(error) < self.catch_angle:
            torque = -self.gain @ np.array([error, rate])
        else:
            # dE/dt = torque * rate: push along the motion while below the target energy.
            missing = self.energy_margin * 2.0 * self.mgl - self.energy(angle, rate)
            direction = math.copysign(1.0, rate) if rate != 0.0 else 1.0
            torque = self.energy_gain * missing * direction
        return np.array([float(np.clip(torque, -self.limit, self.limit))])
