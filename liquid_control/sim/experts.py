"""Expert controllers that the learners imitate.

Both implement the policy interface `reset()` and `act(obs, dt) -> action` and read ONLY the
observation vector (spec order), so DAgger can query them on any state a learner visits.
Neither keeps state between calls.
"""
from __future__ import annotations

import math

import numpy as np

from liquid_control.tasks.spec import CARTPOLE, DIFFDRIVE

from .cartpole import CartPoleEnv, wrapped
from .lqr import dlqr, linearise


class CartPoleExpert:
    """Energy-pumping swing-up, then LQR balance about upright at the rail's centre.

    The LQR gain comes from MuJoCo's linearisation of the (nominal, unless `physics` is
    given) model over one nominal control period; swing-up uses the same model's pole mass,
    centre of mass and inertia.
    """

    spec = CARTPOLE
    catch_angle = 0.5           # rad of |wrapped angle| below which LQR balances
    energy_gain = 50.0          # (m/s^2) per J of pole energy error
    # Pump to slightly more than the upright energy (as a fraction of the hanging-to-upright
    # energy): the pole then reaches the catch region even when it is shorter or lighter
    # than the model the expert assumes (measured: pole length x0.7..x1.3 all succeed).
    energy_margin = 0.15
    max_pump_accel = 12.0       # m/s^2 of cart acceleration while pumping
    position_gain = (3.0, 3.0)  # (1/s^2, 1/s) pulling the cart to the centre while pumping

    def __init__(self, physics=None, dt=CARTPOLE.nominal_dt,
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
        self.low, self.high = CARTPOLE.action_low[0], CARTPOLE.action_high[0]

    def reset(self):
        pass

    def pole_energy(self, angle, rate):
        """Pole energy relative to resting upright: 0 upright, -2 m g l hanging."""
        return 0.5 * self.pole_inertia * rate ** 2 \
            + self.pole_mass * self.gravity * self.pole_com * (math.cos(angle) - 1.0)

    def act(self, obs, dt):
        x, x_rate, angle, rate = (float(v) for v in obs)
        upright_error = wrapped(angle)
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


class DiffDriveExpert:
    """Path follower on the path features alone (no access to the path itself).

    Turn rate = curvature feed-forward (v * kappa_near) plus feedback that makes cross-track
    error e and heading error psi a critically damped pair: for e' = v psi and
    psi' = omega - v kappa, omega = v kappa - a^2 v e - 2 a v psi gives e'' + 2 a v e' +
    a^2 v^2 e = 0, i.e. convergence over about 1/a metres of travel whatever the speed.
    Speed: v_max, lowered for the sharpest curvature ahead (lateral acceleration and turn
    rate limits) and for large errors, and ramped to zero over the last metres to the goal.
    """

    spec = DIFFDRIVE
    max_speed = 0.8                 # m/s
    max_lateral_accel = 0.5         # m/s^2
    convergence = 2.5               # 1/m (a above)
    min_feedback_speed = 0.2        # m/s; heading feedback stays active when slow
    goal_speed_gain = 0.8           # (m/s) per m of remaining path
    goal_stop_distance = 0.05       # m of remaining path at which the speed reaches zero

    def __init__(self):
        self.low = np.array(DIFFDRIVE.action_low)
        self.high = np.array(DIFFDRIVE.action_high)
        self.max_turn_rate = float(self.high[1])

    def reset(self):
        pass

    def speed(self, cross_track, heading, curvatures, goal_distance):
        sharpest = max(abs(k) for k in curvatures)
        v = self.max_speed
        if sharpest > 1e-6:
            v = min(v, math.sqrt(self.max_lateral_accel / sharpest),
                    0.7 * self.max_turn_rate / sharpest)
        v *= max(0.2, 1.0 - abs(heading) / 1.0) * max(0.3, 1.0 - abs(cross_track) / 0.5)
        return min(v, self.goal_speed_gain * max(goal_distance - self.goal_stop_distance, 0.0))

    def act(self, obs, dt):
        cross_track, heading, k_near, k_mid, k_far, goal_distance, _, _ = (float(v) for v in obs)
        v = self.speed(cross_track, heading, (k_near, k_mid, k_far), goal_distance)
        a = self.convergence
        v_fb = max(v, self.min_feedback_speed)
        omega = v * k_near - a * a * v_fb * cross_track - 2.0 * a * v_fb * heading
        return np.clip(np.array([v, omega]), self.low, self.high)
