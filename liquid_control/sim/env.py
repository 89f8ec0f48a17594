"""The environment a task implements on its robot, for episodes in simulation.

Training, evaluation, the sim node and tests drive a task's environment only through:
    task, physics_dt, time, time_limit, obs_scale, action_names, action_low, action_high
    reset(rng), observe(), apply(action), advance(duration), done(), metrics(), reward()
A subclass implements `reset` (a seeded start state), `observe` (the task's obs_names from
the MuJoCo state), `metrics` (at least success, tracking_error, max_tracking_error) and,
where they differ from the defaults, `_set_control` (default: the actions are the actuators'
controls in MJCF order), `done`, `reward` and `_build` (apply self.physics to the MjSpec).
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

from liquid_control.control.path_features import wrap_angle

from .robot import MujocoRobot

__all__ = ['FinalWindow', 'TaskEnv', 'physics_scales', 'wrap_angle']


class FinalWindow:
    """Per-tick values of the last `seconds` of an episode, for rules judged over its end
    (held upright for the final 2 s, ...). Only the window is kept, so an episode left
    running (sim_node) keeps bounded memory."""

    def __init__(self, seconds):
        self.seconds = float(seconds)
        self._rows = deque()             # (time, dt, value)

    def add(self, time, dt, value):
        rows = self._rows
        rows.append((time, dt, value))
        while rows[0][0] <= time - self.seconds + 1e-9:
            rows.popleft()

    def judged(self, time):
        """Whether the episode has lasted the whole window at `time`."""
        return time >= self.seconds - 1e-9 and len(self._rows) > 0

    def mean(self):
        """Time-weighted mean of the values (nan when empty)."""
        if not self._rows:
            return math.nan
        rows = np.array(self._rows)
        return float(np.average(rows[:, 2], weights=rows[:, 1]))

    def max(self):
        return float(max(row[2] for row in self._rows)) if self._rows else math.nan


def physics_scales(physics, defaults):
    """Merge `physics` into `defaults`, refusing unknown names and non-positive scales."""
    merged = dict(defaults)
    for key, value in (physics or {}).items():
        if key not in defaults:
            known = ', '.join(defaults) or 'none'
            raise ValueError(f'unknown physics change {key!r}; known: {known}')
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f'physics change {key}={value!r} must be a positive number')
        merged[key] = float(value)
    return merged


class TaskEnv(MujocoRobot):
    """A task's robot with its episodes (see the module docstring). `task` is the Task the
    environment is made for (Task.make_env passes it; a subclass may name a default)."""

    task = None

    def __init__(self, physics=None, task=None):
        self.task = task or type(self).task
        if self.task is None:
            raise TypeError(f'{type(self).__name__} needs the Task it simulates')
        self.physics = physics_scales(physics, self.task.physics_defaults)
        super().__init__(self.task.mjcf, edit=self._build)
        self.action_names = self.task.action_names
        self.action_low = np.array(self.task.action_low, dtype=np.float64)
        self.action_high = np.array(self.task.action_high, dtype=np.float64)
        self.obs_scale = np.array(self.task.obs_scale, dtype=np.float64)
        self.action = np.zeros(self.task.n_act)
        self.time_limit = self.task.episode_seconds

    def _build(self, mjspec):
        """Apply self.physics to the MJCF before compiling."""

    def safe_action(self):
        """The command sent before any policy output: zero, clipped into the limits."""
        return np.clip(np.zeros(self.task.n_act), self.action_low, self.action_high)

    def apply(self, action):
        """Clip the action to the task's limits and hold it until the next apply."""
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.shape != (self.task.n_act,):
            raise ValueError(f'{self.task.name} takes {self.task.n_act} action values '
                             f'{self.task.action_names}; got {action.shape[0]}')
        if not np.all(np.isfinite(action)):
            raise ValueError(f'non-finite action {action.tolist()}')
        self.action = np.clip(action, self.action_low, self.action_high)
        self._set_control(self.action)

    def _set_control(self, action):
        self.data.ctrl[:] = action

    def reset(self, rng):
        raise NotImplementedError

    def observe(self):
        raise NotImplementedError

    def done(self):
        return False

    def metrics(self):
        raise NotImplementedError

    def reward(self):
        return 0.0
