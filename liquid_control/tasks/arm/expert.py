"""The arm's expert, which the learners imitate.

It implements the policy interface `reset()` and `act(obs, dt) -> action` and reads ONLY the
observation vector (the task's order), so DAgger can query it on any state a learner visits.
It keeps no state between calls: the MjData it owns is overwritten from each observation.
"""
from __future__ import annotations

import math

import mujoco
import numpy as np

from liquid_control.sim.env import wrap_angle

from . import ELBOW, SHOULDER, TASK
from .env import ArmEnv


class ArmExpert:
    """Inverse kinematics of the target, then computed torque on the nominal model.

    Target (x, y) at distance r from the shoulder, clamped into [min_radius, max_radius]
    (a target out of reach is followed along the edge of the workspace), to joint angles
    with the elbow always on the positive side:

        cos q2* = (r^2 - l1^2 - l2^2) / (2 l1 l2),        q2* in (0, pi)
        q1*     = atan2(y, x) - atan2(l2 sin q2*, l1 + l2 cos q2*)

    and the target's velocity v to joint rates through the Jacobian at q*, qdot* = J^-1 v.
    The torque makes the joint errors a critically damped pair of natural frequency
    `frequency` (computed torque on the nominal model, which MuJoCo evaluates at the
    observed state):

        tau = M(q) (wn^2 e + 2 wn edot) + c(q, qdot) + g(q) - passive(qdot)

    with e = (wrap(q1* - q1), q2* - q2), each clipped to +-max_error so a far target is
    approached at a bounded speed, edot = qdot* - qdot; tau clipped to the torque limits.
    The target's acceleration is not observed: tracking lags by about its joint-space
    acceleration / wn^2.
    """

    # rad/s: natural frequency of the joint error. Stiffer tracks closer (12 rad/s: 0.5 cm
    # mean error) but is harder to imitate from positions alone (networks on arm_positions
    # tracked twice as far off); softer lags fast targets and sags under a heavier payload.
    frequency = 8.0
    max_error = 1.0             # rad per joint counted by the stiffness
    min_radius = 0.2            # m: with the elbow at most 2.75 rad, inside its 2.8 rad stop
    max_radius = 0.87           # m: the elbow bent at least 0.55 rad, far from straight

    def __init__(self, physics=None):
        env = ArmEnv(physics)
        self.model = env.model
        self.data = mujoco.MjData(self.model)
        self._arm_qpos, self._arm_dof = env._addresses((SHOULDER, ELBOW))
        self.upper = float(self.model.body('forearm').pos[0])              # l1, m
        self.fore = float(self.model.site_pos[self.model.site('end_effector').id][0])  # l2
        self._mass = np.zeros((self.model.nv, self.model.nv))
        self.low, self.high = np.array(TASK.action_low), np.array(TASK.action_high)

    def reset(self):
        pass

    def inverse_kinematics(self, target, target_velocity):
        """(joint angles, joint rates) that put the end effector on the target (clamped into
        reach) moving with it."""
        x, y = target
        r = math.hypot(x, y)
        velocity = np.asarray(target_velocity, dtype=np.float64)
        if not self.min_radius <= r <= self.max_radius:
            # On the workspace's edge the reachable motion is around the shoulder only.
            if r > 0.0:
                radial = np.array([x, y]) / r
                velocity = velocity - radial * (radial @ velocity)
                x, y = np.array([x, y]) * np.clip(r, self.min_radius, self.max_radius) / r
            else:
                x, y = self.min_radius, 0.0
            r = math.hypot(x, y)
        l1, l2 = self.upper, self.fore
        elbow = math.acos(np.clip((r * r - l1 * l1 - l2 * l2) / (2 * l1 * l2), -1.0, 1.0))
        shoulder = math.atan2(y, x) - math.atan2(l2 * math.sin(elbow),
                                                 l1 + l2 * math.cos(elbow))
        s1, c1 = math.sin(shoulder), math.cos(shoulder)
        s12, c12 = math.sin(shoulder + elbow), math.cos(shoulder + elbow)
        jacobian = np.array([[-l1 * s1 - l2 * s12, -l2 * s12],
                             [l1 * c1 + l2 * c12, l2 * c12]])
        return np.array([shoulder, elbow]), np.linalg.solve(jacobian, velocity)

    def act(self, obs, dt):
        shoulder, shoulder_rate, elbow, elbow_rate, tx, tvx, ty, tvy = (float(v) for v in obs)
        q, q_rate = np.array([shoulder, elbow]), np.array([shoulder_rate, elbow_rate])
        q_goal, rate_goal = self.inverse_kinematics((tx, ty), (tvx, tvy))
        error = np.array([wrap_angle(q_goal[0] - q[0]), q_goal[1] - q[1]])
        error = np.clip(error, -self.max_error, self.max_error)
        wn = self.frequency
        accel = wn * wn * error + 2.0 * wn * (rate_goal - q_rate)
        # The nominal model's mass matrix and bias forces at the observed state.
        data = self.data
        data.qpos[self._arm_qpos] = q
        data.qvel[self._arm_dof] = q_rate
        mujoco.mj_forward(self.model, data)
        mujoco.mj_fullM(self.model, data, self._mass)
        dofs = self._arm_dof
        mass = self._mass[np.ix_(dofs, dofs)]
        torque = mass @ accel + data.qfrc_bias[dofs] - data.qfrc_passive[dofs]
        return np.clip(torque, self.low, self.high)
