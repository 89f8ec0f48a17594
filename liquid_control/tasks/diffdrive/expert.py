"""The diff-drive's expert, which the learners imitate: reset(), act(obs, dt) -> action,
reading only the observation vector (the task's order) and keeping no state."""
from __future__ import annotations

import math

import numpy as np

from . import TASK


class DiffDriveExpert:
    """Path follower on the path features alone (no access to the path itself).

    Turn rate = curvature feed-forward (v * kappa_near) plus feedback that makes cross-track
    error e and heading error psi a critically damped pair: for e' = v psi and
    psi' = omega - v kappa, omega = v kappa - a^2 v e - 2 a v psi gives e'' + 2 a v e' +
    a^2 v^2 e = 0, i.e. convergence over about 1/a metres of travel whatever the speed.
    Speed: v_max, lowered for the sharpest curvature ahead (lateral acceleration and turn
    rate limits) and for large errors, and brought to zero over the last metres to the goal
    (linearly, then quadratically over the final goal_ramp metres, so that noise in the
    distance moves a robot at the goal little, and to exactly zero once the ramp's speed
    falls below goal_stop_speed), where the heading feedback fades out too: the robot comes
    to rest and stays there.
    """

    max_speed = 0.8                 # m/s
    max_lateral_accel = 0.5         # m/s^2
    convergence = 2.5               # 1/m (a above)
    min_feedback_speed = 0.2        # m/s; heading feedback stays active when slow
    goal_speed_gain = 0.8           # (m/s) per m of remaining path
    goal_stop_distance = 0.05       # m of remaining path at which the speed reaches zero
    goal_ramp = 0.5                 # m before that over which the speed falls quadratically
    goal_stop_speed = 0.01          # m/s; on the final ramp a slower speed is 0: stop, not
                                    # crawl (a quadratic ramp alone never quite arrives)
    goal_settle_distance = 0.5      # m of remaining path over which the turning fades out

    def __init__(self):
        self.low = np.array(TASK.action_low)
        self.high = np.array(TASK.action_high)
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
        left = max(goal_distance - self.goal_stop_distance, 0.0)
        ramp = self.goal_ramp
        cap = left if left > ramp else ramp * (left / ramp) ** 2
        v = min(v, self.goal_speed_gain * cap)
        return 0.0 if left < ramp and v < self.goal_stop_speed else v

    def act(self, obs, dt):
        cross_track, heading, k_near, k_mid, k_far, goal_distance, _, _ = (float(v) for v in obs)
        v = self.speed(cross_track, heading, (k_near, k_mid, k_far), goal_distance)
        a = self.convergence
        settle = min(1.0, max(goal_distance - self.goal_stop_distance, 0.0)
                     / self.goal_settle_distance)
        v_fb = max(v, self.min_feedback_speed * settle)
        omega = v * k_near - a * a * v_fb * cross_track - 2.0 * a * v_fb * heading
        return np.clip(np.array([v, omega]), self.low, self.high)


class CalibratedExpert(DiffDriveExpert):
    """The diff-drive's expert for a base with uncalibrated wheels (diffdrive_uncalibrated):
    it commands through the inverse of the episode's wheel scales of the environment it is
    bound to (privileged); unbound, it assumes calibrated wheels."""

    def __init__(self):
        super().__init__()
        self._env = None

    def bind(self, env):
        self._env = env

    def act(self, obs, dt):
        v, omega = super().act(obs, dt)
        if self._env is None:
            return np.array([v, omega])
        left, right = self._env.wheel_scales
        half_track = 0.5 * self._env.wheel_separation
        v_left, v_right = (v - half_track * omega) / left, (v + half_track * omega) / right
        return np.clip(np.array([0.5 * (v_left + v_right), (v_right - v_left) / (2 * half_track)]),
                       self.low, self.high)
