"""The cart-pole's expert, which the learners imitate.

It implements the policy interface `reset()` and `act(obs, dt) -> action` and reads ONLY the
observation vector (the task's order), so DAgger can query it on any state a learner visits.
It keeps no state between calls.
"""
from __future__ import annotations

import math

import numpy as np

from liquid_control.sim.env import wrap_angle
from liquid_control.sim.lqr import dlqr, linearise

from . import TASK
from .env import CartPoleEnv


class CartPoleExpert:
    """Energy-pumping swing-up, then LQR balance about upright at the rail's centre.

    The LQR gain comes from MuJoCo's linearisation of the (nominal, unless `physics` is
    given) model over one nominal control period; swing-up uses the same model's pole mass,
    centre of mass and inertia.
    """

    catch_angle = 0.5           # rad of |wrapped angle| below which LQR balances
    energy_gain = 50.0          # (m/s^2) per J of pole energy error
    # Pump to slightly more than the upright energy (as a fraction of the hanging-to-upright
    # energy): the pole then reaches the catch region even when it is shorter or lighter
    # than the model the expert assumes (measured: pole length x0.7..x1.3 all succeed).
    energy_margin = 0.15
    max_pump_accel = 12.0       # m/s^2 of cart acceleration while pumping
    position_gain = (3.0, 3.0)  # (1/s^2, 1/s) pulling the cart to the centre while pumping

    def __init__(self, physics=None, dt=TASK.nominal_dt,
                 q=(2.0, 0.5, 20.0, 1.0), r=0.02):
        env = CartPoleEnv(physics)
        model = env.model
        a, b = linearise(model, np.zeros(2), np.zeros(2), np.zeros(1), dt)
        # MuJoCo's state is [x, angle, x', angle']; observations are [x, x', angle, angle'].
        order = [0, 2, 1, 3]
        a, b = a[np.ix_(order, order)], b[order]
        self.gain = dlqr(a, b, np.diag(q), np.array([[r]]))[0]
        pole = model.body('pole').id
        self.pole_mass = float(model.body_mass[pole])
        self.pole_com = float(model.body_ipos[pole][2])
        self.pole_inertia = float(model.body_inertia[pole][1]) \
            + self.pole_mass * self.pole_com ** 2
        self.total_mass = float(model.body_mass.sum())
        self.gravity = float(-model.opt.gravity[2])
        self.swing_energy = 2.0 * self.pole_mass * self.gravity * self.pole_com
        self.low, self.high = TASK.action_low[0], TASK.action_high[0]

    def reset(self):
        pass

    def pole_energy(self, angle, rate):
        """Pole energy relative to resting upright: 0 upright, -2 m g l hanging."""
        return 0.5 * self.pole_inertia * rate ** 2 \
            + self.pole_mass * self.gravity * self.pole_com * (math.cos(angle) - 1.0)

    def act(self, obs, dt):
        x, x_rate, angle, rate = (float(v) for v in obs)
        upright_error = wrap_angle(angle)
        if abs(upright_error) < self.catch_angle:
            force = -self.gain @ np.array([x, x_rate, upright_error, rate])
        else:
            # dE/dt = -m l cos(angle) rate * accel: push against rate*cos to add energy.
            energy = self.pole_energy(angle, rate) - self.energy_margin * self.swing_energy
            direction = math.copysign(1.0, rate * math.cos(angle)) if rate != 0 else 1.0
            accel = np.clip(self.energy_gain * energy * direction,
                            -self.max_pump_accel, self.max_pump_accel)
            kx, kv = self.position_gain
            force = self.total_mass * (accel - kx * x - kv * x_rate)
        return np.array([np.clip(force, self.low, self.high)])
