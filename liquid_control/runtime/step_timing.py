"""Measure how long one controller step takes (median and p99), as the control loop sees it."""
from __future__ import annotations

import time

import numpy as np


def measure_step_time(session, steps=2000, warmup=200, dt=None, seed=0):
    """Step `session` with random observations; return a dict of microsecond figures.

    The state is reset before and after, so measuring does not disturb a later run.
    """
    meta = session.metadata
    dt = meta.nominal_dt if dt is None else dt
    rng = np.random.default_rng(seed)
    observations = rng.normal(0.0, 1.0, (steps + warmup, meta.n_obs)).astype(np.float32)
    samples = np.empty(steps)
    session.reset()
    step, clock = session.step, time.perf_counter_ns
    for i in range(warmup):
        step(observations[i], dt)
    for i in range(steps):
        start = clock()
        step(observations[warmup + i], dt)
        samples[i] = clock() - start
    session.reset()
    samples /= 1e3
    return {
        'steps': steps,
        'median_us': float(np.median(samples)),
        'p99_us': float(np.percentile(samples, 99)),
        'mean_us': float(samples.mean()),
        'max_us': float(samples.max()),
    }
