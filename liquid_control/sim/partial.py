"""A task's environment observed in part, and the expert that still sees everything.

A partially observed task (tasks/partial.py) shares its robot, episodes and rules with a full
task; its controller observes only some of the full observation (e.g. positions without
velocities). Its expert is the full task's, acting on the full observation: privileged, as a
teacher that sees the state while its student infers what it cannot see from its history.
"""
from __future__ import annotations

import numpy as np


class ObservedPart:
    """The full task's environment, whose `observe()` returns only the partial task's
    observations (in its order); everything else is the full environment's."""

    def __init__(self, full_env, task):
        self.full_env = full_env
        self.task = task
        self._keep = np.array([full_env.task.obs_names.index(n) for n in task.obs_names])
        self.obs_scale = np.asarray(full_env.obs_scale)[self._keep]

    def observe(self):
        return self.full_env.observe()[self._keep]

    def full_observation(self):
        """What the privileged expert sees: the full task's observation."""
        return self.full_env.observe()

    def __getattr__(self, name):
        # Only reached for names not set above: the robot, its episodes and its rules.
        return getattr(self.full_env, name)


class PrivilegedExpert:
    """The full task's expert acting on the full observation of the environment it is bound
    to (`bind(env)` before the episode's first `act`, as the episode runners do); the
    partial observation it is handed is not enough for it."""

    def __init__(self, expert):
        self.expert = expert
        self._env = None

    def bind(self, env):
        if not hasattr(env, 'full_observation'):
            raise TypeError(f'a privileged expert needs an environment observed in part '
                            f'(ObservedPart), got {type(env).__name__}')
        self._env = env
        if hasattr(self.expert, 'bind'):
            self.expert.bind(env.full_env)

    def reset(self):
        self.expert.reset()

    def act(self, obs, dt):
        if self._env is None:
            raise RuntimeError('the privileged expert acts on the full state of the '
                               'environment it is bound to: call bind(env) first')
        return self.expert.act(self._env.full_observation(), dt)
