"""Cart-pole swing-up and balance on a rail (sim/assets/cartpole.xml).

Observation: CARTPOLE.obs_names = cart position, cart velocity, pole angle (0 upright, not
wrapped), pole angular velocity. Action: force on the cart, N. An episode starts near
hanging; success = the pole stays upright for the whole final SUCCESS_WINDOW and the cart
never reaches a rail end.
"""
from __future__ import annotations

import math
from collections import deque

import mujoco
import numpy as np

from liquid_control.tasks.spec import CART_JOINT, CARTPOLE, POLE_JOINT

from .env import MujocoEnv

RAIL_LIMIT = 2.4            # m, the joint range in the MJCF
UPRIGHT_TOLERANCE = 0.2     # rad of |wrapped pole angle| that counts as upright
SUCCESS_WINDOW = 2.0        # s at the end of an episode judged for success and error
_MAX_POLE_RATE = 50.0       # rad/s, far above any swing; bounds the pole's pull on the cart


def wrapped(angle):
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class CartPoleEnv(MujocoEnv):
    spec = CARTPOLE
    asset = 'cartpole'
    physics_defaults = {'cart_mass_scale': 1.0, 'pole_mass_scale': 1.0,
                        'pole_length_scale': 1.0}
    time_limit = 10.0
    joint_names = (CART_JOINT, POLE_JOINT)
    # Typical spread of each observation: std over 100 expert episodes, rounded (the angle's
    # of its wrapped value, since the raw angle winds). The unit of observation noise.
    obs_scale = np.array([0.3, 0.6, 0.75, 1.8])

    def _build(self, mjspec):
        pole = mjspec.geom('pole')
        pole.fromto = np.asarray(pole.fromto) * self.physics['pole_length_scale']
        pole.mass *= self.physics['pole_mass_scale']
        mjspec.geom('cart').mass *= self.physics['cart_mass_scale']
        actuator = mjspec.actuator(f'{CART_JOINT}_effort')
        actuator.ctrlrange = [self.spec.action_low[0], self.spec.action_high[0]]

    def __init__(self, physics=None):
        super().__init__(physics)
        # Twice the most the cart can accelerate: full force plus the pole's pull at
        # _MAX_POLE_RATE. While a rail end is out of reach a tick is one mj_step call.
        cart, pole = self.model.body('cart').id, self.model.body('pole').id
        gravity = -self.model.opt.gravity[2]
        pole_pull = self.model.body_mass[pole] * (
            gravity + self.model.body_ipos[pole][2] * _MAX_POLE_RATE ** 2)
        force = max(abs(self.action_low[0]), abs(self.action_high[0]))
        self._accel_bound = 2.0 * (force + 2.0 * pole_pull) / self.model.body_mass[cart]
        # (time, dt, |wrapped angle|, cart position) per tick of the final window only, so
        # an episode left running (sim_node) keeps bounded memory.
        self._history = deque()
        self._max_abs_cart = 0.0
        self.rail_hit = False

    def reset(self, rng):
        """Start near hanging: cart within +-0.5 m, pole pi+-0.3 rad, small velocities."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = (rng.uniform(-0.5, 0.5), math.pi + rng.uniform(-0.3, 0.3))
        self.data.qvel[:] = (rng.uniform(-0.2, 0.2), rng.uniform(-0.5, 0.5))
        self.apply(self.safe_action())
        mujoco.mj_forward(self.model, self.data)
        self._history = deque()
        self._max_abs_cart = 0.0
        self.rail_hit = False
        self.last_dt = 0.0

    def _set_control(self, action):
        self.data.ctrl[0] = action[0]

    def observe(self):
        qpos, qvel = self.data.qpos, self.data.qvel
        return np.array([qpos[0], qvel[0], qpos[1], qvel[1]])

    def joint_positions(self):
        return self.data.qpos.copy()

    def joint_velocities(self):
        return self.data.qvel.copy()

    def joint_efforts(self):
        return np.array([self.data.actuator_force[0], 0.0])

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
        history = self._history
        history.append((self.time, dt, abs(wrapped(self.data.qpos[1])), self.data.qpos[0]))
        self._max_abs_cart = max(self._max_abs_cart, abs(self.data.qpos[0]))
        while history[0][0] <= self.time - SUCCESS_WINDOW + 1e-9:
            history.popleft()

    def done(self):
        return self.rail_hit

    def _final_window(self):
        if not self._history:
            return np.zeros((0, 4))
        return np.array(self._history)

    def metrics(self):
        window = self._final_window()
        judged = self.time >= SUCCESS_WINDOW - 1e-9 and len(window) > 0
        error = float(np.average(window[:, 2], weights=window[:, 1])) if judged else math.pi
        worst = float(window[:, 2].max()) if judged else math.pi
        return {
            'success': bool(judged and not self.rail_hit and worst < UPRIGHT_TOLERANCE),
            'tracking_error': error,
            'max_tracking_error': worst,
            'rail_hit': self.rail_hit,
            'max_abs_cart_position': self._max_abs_cart,
            'time': self.time,
        }

    def reward(self):
        """Per tick, rate x dt: 1 when upright at the rail's centre, 0 hanging."""
        x, angle = self.data.qpos
        rate = 0.5 * (1.0 + math.cos(angle)) - 0.1 * (x / RAIL_LIMIT) ** 2
        return rate * self.last_dt
