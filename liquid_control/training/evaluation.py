"""Closed-loop evaluation of an exported model and of the expert on the same episodes.

The model is stepped through the runtime's ControllerSession, exactly as the node steps it,
so the figures are those of the shipped file, not of the torch module it came from.
Episodes, disturbances and the success interval are the simulator's (sim.episode).
"""
from __future__ import annotations

import time

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


def evaluate_model_and_expert(sim, model_path, episodes, seconds, **conditions):
    """(model summary, expert summary, model step times in us) on identical episodes."""
    from liquid_control.sim.episode import evaluate
    controller = SessionController(load_controller(model_path))
    kwargs = dict(duration=seconds, nominal_dt=sim.spec.nominal_dt, **conditions)
    model = evaluate(sim.make_env, lambda: controller, episodes, EVAL_SEED, **kwargs)
    expert = evaluate(sim.make_env, sim.make_expert, episodes, EVAL_SEED, **kwargs)
    return model.summary, expert.summary, np.asarray(controller.step_seconds) * 1e6
