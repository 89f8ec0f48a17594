"""Closed-loop data collection: several simulated episodes stepped in lockstep.

Each tick, every live episode is observed; the learner acts on a noisy copy of the
observation (as a real sensor gives it), the expert labels the noise-free one, and the
applied action comes from the expert with probability `beta`, else from the learner
(DAgger's mixture policy; beta = 1 is plain behaviour cloning). The control period is
jittered around the nominal dt: the data has the irregular sampling of a real control
loop. Batching the learner over episodes keeps torch's per-call overhead low.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Episode:
    """One episode's learner inputs and expert labels, aligned per tick."""

    obs: np.ndarray      # [T, n_obs] float32, noise-free (training adds fresh noise)
    dt: np.ndarray       # [T, 1] seconds since the previous tick
    action: np.ndarray   # [T, n_act] expert labels, clipped to the action limits
    metrics: dict

    def __len__(self):
        return len(self.obs)


def jittered_dt(rng, nominal, jitter, size=None):
    """nominal * U(1 - jitter, 1 + jitter): irregular sampling around the nominal period."""
    return nominal * (1.0 + jitter * rng.uniform(-1.0, 1.0, size))


def collect(envs, experts, policy, rng, duration, beta=1.0, dt_jitter=0.5, obs_noise=None,
            progress=None):
    """Run len(envs) episodes in lockstep; return their Episodes.

    envs/experts: paired lists (fresh episodes are started here with `env.reset(rng)`).
    duration: seconds, or None for each episode's own env.time_limit (set by its reset).
    policy: a nets.Policy, or None when beta == 1. obs_noise: per-observation std (or None).
    """
    task = envs[0].task
    low, high = np.asarray(task.action_low), np.asarray(task.action_high)
    nominal = task.nominal_dt
    for env, expert in zip(envs, experts):
        env.reset(rng)
        expert.reset()
        if hasattr(expert, 'bind'):
            expert.bind(env)
    n = len(envs)
    limits = np.array([env.time_limit if duration is None else duration for env in envs])
    live = np.ones(n, bool)
    elapsed = np.zeros(n)
    dt = np.full(n, nominal)
    logs = [([], [], []) for _ in range(n)]
    state = policy.initial_state(n) if policy is not None else None
    while live.any():
        clean = np.stack([env.observe() for env in envs])
        noisy = clean if obs_noise is None else clean + rng.normal(size=clean.shape) * obs_noise
        labels = np.stack([np.clip(ex.act(o, d), low, high)
                           for ex, o, d in zip(experts, clean, dt)])
        applied = labels
        if policy is not None and beta < 1.0:
            with torch.no_grad():
                learner, state = policy(torch.as_tensor(noisy, dtype=torch.float32), state,
                                        torch.as_tensor(dt[:, None], dtype=torch.float32))
            use_expert = rng.uniform(size=n) < beta
            applied = np.where(use_expert[:, None], labels, learner.numpy())
        step_dt = jittered_dt(rng, nominal, dt_jitter, n)
        for i in np.flatnonzero(live):
            logs[i][0].append(clean[i])
            logs[i][1].append(dt[i])
            logs[i][2].append(labels[i])
            envs[i].apply(applied[i])
            dt[i] = envs[i].advance(step_dt[i])
            elapsed[i] += dt[i]
            if envs[i].done() or elapsed[i] >= limits[i] - 1e-9:
                live[i] = False
        if progress is not None:
            progress.update(int(live.sum()))
    return [Episode(obs=np.asarray(o, np.float32), dt=np.asarray(d, np.float32)[:, None],
                    action=np.asarray(a, np.float32), metrics=env.metrics())
            for (o, d, a), env in zip(logs, envs)]
