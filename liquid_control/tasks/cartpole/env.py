"""The cart-pole's MuJoCo environment (the task and its rules: __init__.py)."""
from __future__ import annotations

import math

import mujoco
import numpy as np

from liquid_control.sim.env import FinalWindow, TaskEnv, wrap_angle

from . import CART_JOINT, RAIL_LIMIT, SUCCESS_WINDOW, TASK, UPRIGHT_TOLERANCE

_MAX_POLE_RATE = 50.0       # rad/s, far above any swing; bounds the pole's pull on the cart


class CartPoleEnv(TaskEnv):
    task = TASK

    def _build(self, mjspec):
        pole = mjspec.geom('pole')
        pole.fromto = np.asarray(pole.fromto) * self.physics['pole_length_scale']
        pole.mass *= self.physics['pole_mass_scale']
        mjspec.geom('cart').mass *= self.physics['cart_mass_scale']
        actuator = mjspec.actuator(f'{CART_JOINT}_effort')
        actuator.ctrlrange = [self.task.action_low[0], self.task.action_high[0]]

    def __init__(self, physics=None, task=None):
        super().__init__(physics, task)
        # Twice the most the cart can accelerate: full force plus the pole's pull at
        # _MAX_POLE_RATE. While a rail end is out of reach a tick is one mj_step call.
        cart, pole = self.model.body('cart').id, self.model.body('pole').id
        gravity = -self.model.opt.gravity[2]
        pole_pull = self.model.body_mass[pole] * (
            gravity + self.model.body_ipos[pole][2] * _MAX_POLE_RATE ** 2)
        force = max(abs(self.action_low[0]), abs(self.action_high[0]))
        self._accel_bound = 2.0 * (force + 2.0 * pole_pull) / self.model.body_mass[cart]
        self._window = FinalWindow(SUCCESS_WINDOW)     # |wrapped angle| per tick
        self._max_abs_cart = 0.0
        self._first_upright = math.nan
        self.rail_hit = False

    def reset(self, rng):
        """Start near hanging: cart within +-0.5 m, pole pi+-0.3 rad, small velocities."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = (rng.uniform(-0.5, 0.5), math.pi + rng.uniform(-0.3, 0.3))
        self.data.qvel[:] = (rng.uniform(-0.2, 0.2), rng.uniform(-0.5, 0.5))
        self.apply(self.safe_action())
        mujoco.mj_forward(self.model, self.data)
        self._window = FinalWindow(SUCCESS_WINDOW)
        self._max_abs_cart = 0.0
        self._first_upright = math.nan
        self.rail_hit = False
        self.last_dt = 0.0

    def observe(self):
        qpos, qvel = self.data.qpos, self.data.qvel
        return np.array([qpos[0], qvel[0], qpos[1], qvel[1]])

    def _integrate(self, n_steps):
        model, data = self.model, self.data
        span = n_steps * self.physics_dt
        reach = abs(data.qpos[0]) + abs(data.qvel[0]) * span \
            + 0.5 * self._accel_bound * span ** 2
        if reach < RAIL_LIMIT:
            mujoco.mj_step(model, data, nstep=n_steps)
            return
        # Near a rail end: step by step so a brief touch between ticks is not missed.
        for _ in range(n_steps):
            mujoco.mj_step(model, data)
            if abs(data.qpos[0]) >= RAIL_LIMIT:
                self.rail_hit = True

    def _after_advance(self, dt):
        angle = abs(wrap_angle(self.data.qpos[1]))
        self._window.add(self.time, dt, angle)
        if angle < UPRIGHT_TOLERANCE and math.isnan(self._first_upright):
            self._first_upright = self.time
        self._max_abs_cart = max(self._max_abs_cart, abs(self.data.qpos[0]))

    def done(self):
        return self.rail_hit

    def metrics(self):
        judged = self._window.judged(self.time)
        error = self._window.mean() if judged else math.pi
        worst = self._window.max() if judged else math.pi
        return {
            'success': bool(judged and not self.rail_hit and worst < UPRIGHT_TOLERANCE),
            'tracking_error': error,
            'max_tracking_error': worst,
            'rail_hit': self.rail_hit,
            'max_abs_cart_position': self._max_abs_cart,
            'first_upright_time': self._first_upright,
            'time': self.time,
        }

    def reward(self):
        """Per tick, rate x dt: 1 when upright at the rail's centre, 0 hanging."""
        x, angle = self.data.qpos
        rate = 0.5 * (1.0 + math.cos(angle)) - 0.1 * (x / RAIL_LIMIT) ** 2
        return rate * self.last_dt
