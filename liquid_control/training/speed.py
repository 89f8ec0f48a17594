"""Step time of an exported model through the runtime vs its torch module run eagerly."""
from __future__ import annotations

import time

import numpy as np
import torch

from liquid_control.runtime import load_controller
from liquid_control.runtime.step_timing import measure_step_time


def torch_step_time(policy, steps=2000, warmup=200, seed=0):
    """Median/p99 microseconds of one eager torch step at batch 1, one thread, no grad."""
    spec = policy.spec
    rng = np.random.default_rng(seed)
    observations = torch.from_numpy(
        rng.normal(0.0, 1.0, (steps + warmup, 1, spec.n_obs)).astype(np.float32))
    dt = torch.full((1, 1), spec.nominal_dt)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    samples = np.empty(steps)
    try:
        with torch.no_grad():
            state = policy.initial_state(1)
            for i in range(warmup):
                _, state = policy(observations[i], state, dt)
            for i in range(steps):
                start = time.perf_counter_ns()
                _, state = policy(observations[warmup + i], state, dt)
                samples[i] = time.perf_counter_ns() - start
    finally:
        torch.set_num_threads(threads)
    samples /= 1e3
    return {'median_us': float(np.median(samples)), 'p99_us': float(np.percentile(samples, 99))}


def compare(policy, model_path, steps=2000):
    """{'runtime': ..., 'torch': ..., 'speedup': torch median / runtime median}."""
    runtime = measure_step_time(load_controller(model_path), steps=steps)
    eager = torch_step_time(policy.eval(), steps=steps)
    return {'runtime': runtime, 'torch': eager,
            'speedup': eager['median_us'] / runtime['median_us']}
