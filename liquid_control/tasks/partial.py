"""Partially observed variants of a task: the same robot, episodes, rules, expert and ROS
side as the full task, with a controller that observes only some of its observations.

    from liquid_control.tasks.cartpole import TASK as CARTPOLE
    TASK = partially_observed(CARTPOLE, 'cartpole_positions',
                              ('slider_to_cart.position', 'cart_to_pole.position'),
                              description='...', params_file=...)

Where the full observation holds what the hidden part could be computed from (velocities
from positions over time), the controller must infer it from its history and the elapsed
time: the tasks where memory and continuous time can matter. The environment and the
privileged expert are in sim/partial.py.
"""
from __future__ import annotations

import dataclasses

from .task import Task, TaskDefinitionError


def partially_observed(full: Task, name, obs_names, description, params_file, **changes):
    """A Task observing `obs_names` (a subset of `full`'s, in any order) of task `full`;
    `changes` set any other Task field (e.g. training overrides)."""
    unknown = [n for n in obs_names if n not in full.obs_names]
    if unknown:
        raise TaskDefinitionError(f'task {name!r}: {unknown} are not observations of task '
                                  f'{full.name!r} ({list(full.obs_names)})')
    scale = dict(zip(full.obs_names, full.obs_scale))
    return dataclasses.replace(
        full, name=name, description=description, obs_names=tuple(obs_names),
        obs_scale=tuple(scale[n] for n in obs_names),
        angle_obs=tuple(n for n in full.angle_obs if n in obs_names),
        params_file=params_file, full_task=full, **changes)
