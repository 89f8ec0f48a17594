"""Closed-loop evaluation of an exported model and of the expert on the same episodes.

The model is stepped through the runtime's ControllerSession, exactly as the node steps it,
so the figures are those of the shipped file, not of the torch module it came from.
Episodes, disturbances and the success interval are the simulator's (sim.episode).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from liquid_control.runtime import load_controller

EVAL_SEED = 1_000_000  # one fixed set of start states for every model and the expert


class SessionController:
    """A ControllerSession behind the experts' interface (reset, act), timing each step."""

    def __init__(self, session):
        self.session = session
        self.step_seconds = []

    def reset(self):
        self.session.reset()

    def act(self, obs, dt):
        t0 = time.perf_counter()
        action = self.session.step(obs, dt)
        self.step_seconds.append(time.perf_counter() - t0)
        return action


def evaluate_model_and_expert(task, model_path, episodes, seconds, expert_cache=None):
    """(model summary, expert summary, model step times in us) on identical episodes.

    The expert is deterministic, so its summary for a (task, episodes, horizon) is the same
    for every model: `expert_cache` (a folder) keeps it between runs.
    """
    from liquid_control.sim.episode import evaluate
    controller = SessionController(load_controller(model_path))
    kwargs = dict(duration=seconds, nominal_dt=task.nominal_dt)
    model = evaluate(task.make_env, lambda: controller, episodes, EVAL_SEED, **kwargs)
    cached = None
    if expert_cache is not None:
        cached = Path(expert_cache) / (f'expert_{task.name}_{episodes}ep_{seconds}s_'
                                       f'seed{EVAL_SEED}.json')
        if cached.is_file():
            return (model.summary, json.loads(cached.read_text()),
                    np.asarray(controller.step_seconds) * 1e6)
    expert = evaluate(task.make_env, task.make_expert, episodes, EVAL_SEED, **kwargs).summary
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(expert))
    return model.summary, expert, np.asarray(controller.step_seconds) * 1e6
