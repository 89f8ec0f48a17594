"""The interface every simulated task implements, and the MuJoCo plumbing they share.

Training, evaluation, the sim node and tests drive a task only through these names:
    spec, physics_dt, time, time_limit, obs_scale
    reset(rng), observe(), apply(action), advance(duration), done(), metrics(), reward()
A task is built from an MJCF file in sim/assets; `physics` scales named parameters of it
(e.g. {'pole_mass_scale': 1.3}) for robustness studies.
"""
from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

ASSETS = Path(__file__).parent / 'assets'


def load_mjcf(name):
    """The editable MjSpec of sim/assets/<name>.xml."""
    return mujoco.MjSpec.from_file(str(ASSETS / f'{name}.xml'))


def physics_scales(physics, defaults):
    """Merge `physics` into `defaults`, refusing unknown names and non-positive scales."""
    merged = dict(defaults)
    for key, value in (physics or {}).items():
        if key not in defaults:
            raise ValueError(f'unknown physics change {key!r}; known: {", ".join(defaults)}')
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f'physics change {key}={value!r} must be a positive number')
        merged[key] = float(value)
    return merged


class MujocoEnv:
    """Base of the tasks: a compiled model, clipped held actions, whole-step advancing.

    Subclasses set `spec`, `asset`, `physics_defaults`, `time_limit`, `obs_scale` and
    implement `_build(mjspec)`, `_set_control(action)`, `reset`, `observe`, `done`,
    `metrics`, `reward`; they may override `_integrate` and `_after_advance`.
    """

    spec = None
    asset = None
    physics_defaults = {}
    time_limit = None
    obs_scale = None

    def __init__(self, physics=None):
        self.physics = physics_scales(physics, self.physics_defaults)
        mjspec = load_mjcf(self.asset)
        self._build(mjspec)
        self.model = mjspec.compile()
        self.data = mujoco.MjData(self.model)
        self.physics_dt = float(self.model.opt.timestep)
        self.action_low = np.array(self.spec.action_low, dtype=np.float64)
        self.action_high = np.array(self.spec.action_high, dtype=np.float64)
        self.action = np.zeros(self.spec.n_act)
        self.last_dt = 0.0

    def _build(self, mjspec):
        """Apply self.physics to the MJCF before compiling."""

    @property
    def time(self):
        return float(self.data.time)

    def safe_action(self):
        """The command sent before any policy output: zero, clipped into the limits."""
        return np.clip(np.zeros(self.spec.n_act), self.action_low, self.action_high)

    def apply(self, action):
        """Clip the action to the spec's limits and hold it until the next apply."""
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.shape != (self.spec.n_act,):
            raise ValueError(f'{self.spec.name} takes {self.spec.n_act} action values '
                             f'{self.spec.action_names}; got {action.shape[0]}')
        if not np.all(np.isfinite(action)):
            raise ValueError(f'non-finite action {action.tolist()}')
        self.action = np.clip(action, self.action_low, self.action_high)
        self._set_control(self.action)

    def advance(self, duration):
        """Integrate round(duration / physics_dt) steps (at least one); return the time
        actually advanced."""
        n_steps = max(int(round(duration / self.physics_dt)), 1)
        self._integrate(n_steps)
        self.last_dt = n_steps * self.physics_dt
        self._after_advance(self.last_dt)
        return self.last_dt

    def _integrate(self, n_steps):
        mujoco.mj_step(self.model, self.data, nstep=n_steps)

    def _after_advance(self, dt):
        """Update running metrics after each advance."""

    def _set_control(self, action):
        raise NotImplementedError
