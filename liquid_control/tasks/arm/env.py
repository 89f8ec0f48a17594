"""The arm's MuJoCo environment and the target's curve (the task and its rules: __init__.py)."""
from __future__ import annotations

import math

import mujoco
import numpy as np

from liquid_control.sim.env import FinalWindow, TaskEnv

from . import ELBOW, SHOULDER, SUCCESS_WINDOW, TARGET_X, TARGET_Y, TASK, TRACKING_TOLERANCE

TARGET_RADIUS = (0.35, 0.75)    # m from the shoulder: well inside the arm's 0.1-0.9 m reach
TARGET_FREQUENCIES = (0.1, 0.5)  # Hz, of each sinusoid of the curve
TARGET_SWING = 1.0              # rad: the most the target's bearing swings about its centre
TARGET_COMPONENTS = 3           # sinusoids per polar coordinate
START_ELBOW = 2.5               # rad: the arm starts with |elbow| at most this, at rest


class TargetCurve:
    """The target's path in the arm's plane (shoulder at the origin), in polar coordinates:

        r(t)   = r_mid + sum_i a_i sin(2 pi f_i t + p_i),   sum_i a_i <= (r_max - r_min) / 2
        phi(t) = phi_0 + sum_i b_i sin(2 pi g_i t + q_i),   sum_i b_i <= TARGET_SWING
        (x, y) = r (cos phi, sin phi)

    so it stays in the annulus TARGET_RADIUS whatever the draw. Frequencies are uniform in
    TARGET_FREQUENCIES, phases uniform, phi_0 anywhere around the shoulder (above it the arm
    holds up against gravity, below it hangs), the swings random up to their bounds.
    """

    def __init__(self, rng, n=TARGET_COMPONENTS):
        r_min, r_max = TARGET_RADIUS
        self.r_mid = 0.5 * (r_min + r_max)
        self.phi_0 = rng.uniform(-math.pi, math.pi)
        # Rows: radius, bearing. Amplitudes share a random total, a random part each.
        bounds = np.array([[0.5 * (r_max - r_min)], [TARGET_SWING]])
        totals = bounds * rng.uniform(0.5, 1.0, (2, 1))
        weights = rng.uniform(0.2, 1.0, (2, n))
        self.amplitude = totals * weights / weights.sum(axis=1, keepdims=True)
        self.omega = 2 * math.pi * rng.uniform(*TARGET_FREQUENCIES, (2, n))
        self.phase = rng.uniform(0.0, 2 * math.pi, (2, n))

    def __call__(self, t):
        """(position, velocity) at time(s) t: arrays [..., 2] of (x, y) in m and m/s."""
        t = np.asarray(t, dtype=np.float64)[..., None, None]
        angle = self.omega * t + self.phase
        polar = (self.amplitude * np.sin(angle)).sum(axis=-1)
        rates = (self.amplitude * self.omega * np.cos(angle)).sum(axis=-1)
        r, phi = self.r_mid + polar[..., 0], self.phi_0 + polar[..., 1]
        r_rate, phi_rate = rates[..., 0], rates[..., 1]
        c, s = np.cos(phi), np.sin(phi)
        position = np.stack([r * c, r * s], axis=-1)
        velocity = np.stack([r_rate * c - r * phi_rate * s, r_rate * s + r * phi_rate * c],
                            axis=-1)
        return position, velocity


class ArmEnv(TaskEnv):
    task = TASK

    def _build(self, mjspec):
        mjspec.geom('payload').mass *= self.physics['payload_scale']
        for joint in (SHOULDER, ELBOW):
            mjspec.joint(joint).damping = np.asarray(mjspec.joint(joint).damping) \
                * self.physics['damping_scale']
        # A longer forearm (of the same tube: mass in proportion) carries its tip, payload
        # and end effector out with it.
        scale = self.physics['forearm_length_scale']
        forearm = mjspec.geom('forearm')
        forearm.fromto = np.asarray(forearm.fromto) * scale
        forearm.mass *= scale
        for part in (mjspec.geom('payload'), mjspec.site('end_effector')):
            part.pos = np.asarray(part.pos) * scale
        for joint, low, high in zip((SHOULDER, ELBOW), self.task.action_low,
                                    self.task.action_high):
            mjspec.actuator(f'{joint}_effort').ctrlrange = [low, high]

    def __init__(self, physics=None, task=None):
        super().__init__(physics, task)
        model = self.model
        self._arm_qpos, self._arm_qvel = self._addresses((SHOULDER, ELBOW))
        self._target_qpos, self._target_qvel = self._addresses((TARGET_X, TARGET_Y))
        self._site = model.site('end_effector').id
        # Reach of the arm as built: shoulder to elbow plus elbow to end effector.
        self.reach = float(model.body('forearm').pos[0] + model.site_pos[self._site][0])
        self.curve = TargetCurve(np.random.default_rng(0))     # until the first reset
        self._window = FinalWindow(SUCCESS_WINDOW)

    def reset(self, rng):
        """The target somewhere on a fresh curve; the arm at rest, shoulder anywhere, elbow
        within +-START_ELBOW (either side)."""
        mujoco.mj_resetData(self.model, self.data)
        self.curve = TargetCurve(rng)
        self.data.qpos[self._arm_qpos] = (rng.uniform(-math.pi, math.pi),
                                          rng.uniform(-START_ELBOW, START_ELBOW))
        position, velocity = self.curve(0.0)
        self.data.qpos[self._target_qpos] = position
        self.data.qvel[self._target_qvel] = velocity
        self.apply(self.safe_action())
        mujoco.mj_forward(self.model, self.data)
        self._window = FinalWindow(SUCCESS_WINDOW)        # distance to the target per tick
        self._first_on_target = math.nan
        self._saturated_time = 0.0
        self.last_dt = 0.0

    def observe(self):
        qpos, qvel = self.data.qpos, self.data.qvel
        (s, e), (tx, ty) = self._arm_qpos, self._target_qpos
        (sv, ev), (txv, tyv) = self._arm_qvel, self._target_qvel
        return np.array([qpos[s], qvel[sv], qpos[e], qvel[ev],
                         qpos[tx], qvel[txv], qpos[ty], qvel[tyv]])

    def end_effector(self):
        """(x, y) of the end effector in the arm's plane, m."""
        return self.data.site_xpos[self._site][:2].copy()

    def target(self):
        """(x, y) of the target, m: its joints' positions (they move it from the origin)."""
        return self.data.qpos[self._target_qpos].copy()

    def distance(self):
        return float(np.hypot(*(self.end_effector() - self.target())))

    def _integrate(self, n_steps):
        """Step the arm; after each physics step, put the target where its curve is then,
        moving as the curve does (its joints carry no force: it only shows the target)."""
        model, data = self.model, self.data
        position, velocity = self.curve(data.time + self.physics_dt * np.arange(1, n_steps + 1))
        for step in range(n_steps):
            mujoco.mj_step(model, data)
            data.qpos[self._target_qpos] = position[step]
            data.qvel[self._target_qvel] = velocity[step]
        # mj_step leaves positions of bodies and sites at the state before its last step.
        mujoco.mj_kinematics(model, data)

    def _after_advance(self, dt):
        distance = self.distance()
        self._window.add(self.time, dt, distance)
        if distance < TRACKING_TOLERANCE and math.isnan(self._first_on_target):
            self._first_on_target = self.time
        # Within 1% of a limit: a network's squashed output never quite reaches it.
        margin = 0.01 * (self.action_high - self.action_low)
        if np.any((self.action <= self.action_low + margin)
                  | (self.action >= self.action_high - margin)):
            self._saturated_time += dt

    def metrics(self):
        judged = self._window.judged(self.time)
        # Before a whole window has passed (a cut-short episode) the figures are of the
        # episode so far; before the first tick, of the start.
        error, worst = self._window.mean(), self._window.max()
        if math.isnan(error):
            error = worst = self.distance()
        return {
            'success': bool(judged and worst < TRACKING_TOLERANCE),
            'tracking_error': error,
            'max_tracking_error': worst,
            'first_on_target_time': self._first_on_target,
            'saturated_fraction': self._saturated_time / self.time if self.time > 0 else 0.0,
            'time': self.time,
        }

    def reward(self):
        """Per tick, rate x dt: 1 on the target, 0 a whole reach away."""
        return (1.0 - self.distance() / self.reach) * self.last_dt
