"""Closed-loop evaluation on fixed episode seeds, for the exported model and the expert alike.

The model is stepped through the runtime's ControllerSession, exactly as the node steps
it, so the figures are those of the shipped file, not of the torch module it came from.
"""
from __future__ import annotations

import math
import time

import numpy as np

EVAL_SEED_BASE = 1_000_000  # far from training seeds: evaluation episodes are unseen


class SessionController:
    """A ControllerSession behind the experts' interface (reset, act)."""

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


def wilson_interval(successes, n, z=1.96):
    """95% Wilson score interval for a success rate."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def run_episodes(make_env, controller, seeds, duration, bind=False, progress=None):
    """One episode per seed at the nominal rate; returns each episode's env.metrics()."""
    results = []
    for seed in seeds:
        env = make_env()
        env.reset(np.random.default_rng(seed))
        controller.reset()
        if bind and hasattr(controller, 'bind'):
            controller.bind(env)
        dt, elapsed = env.spec.nominal_dt, 0.0
        while elapsed < duration - 1e-9 and not env.done():
            env.apply(controller.act(env.observe(), dt))
            dt = env.advance(env.spec.nominal_dt)
            elapsed += dt
        results.append(env.metrics())
        if progress is not None:
            progress.update(1)
    return results


def summarise(metrics):
    """Success rate with its 95% interval and the mean of every numeric metric."""
    n = len(metrics)
    wins = sum(bool(m.get('success')) for m in metrics)
    low, high = wilson_interval(wins, n)
    means = {}
    for key in metrics[0] if metrics else ():
        values = [m[key] for m in metrics if isinstance(m.get(key), (int, float))
                  and not isinstance(m.get(key), bool) and math.isfinite(m[key])]
        if values:
            means[key] = float(np.mean(values))
    return {'episodes': n, 'successes': wins, 'success_rate': wins / n if n else 0.0,
            'ci95': (low, high), 'means': means}
