"""Run a policy on a task for one episode under controlled disturbances, and evaluate it
over seeded episodes.

Disturbances, each off by default:
  obs_noise     Gaussian noise of obs_noise * env.obs_scale (per observation) added to what
                the policy sees
  dt_jitter     each tick lasts nominal_dt * (1 + U(-j, j)), rounded to whole physics steps
                (at least one); the policy is told the actual time since its previous step
  event_sampling  observations at Poisson times instead: each interval is exponential with
                mean nominal_dt (whole physics steps, at least one), as an event-driven
                sensor; the policy steps on each with the true dt (overrides dt_jitter)
  dropout_probability  after each observation, the chance that a burst of sensor messages
                is lost: the next `dropout_ticks` on average (geometric) sampling intervals
                pass without one, the last command held, and the policy then steps with the
                whole gap as dt (as controller_node would, short of its sensor timeout)
  action_delay  ticks before an action reaches the actuator (the safe action fills the gap)
A policy is any object with reset() and act(obs, dt) -> action; one with bind(env) (a
privileged expert) is bound to the environment before each episode.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class EpisodeResult:
    success: bool
    ret: float
    tracking_error: float
    max_tracking_error: float
    steps: int
    metrics: dict = field(default_factory=dict)
    # Filled when record=True: one row per tick.
    times: np.ndarray | None = None      # sim time when the observation was taken
    obs: np.ndarray | None = None        # observations as the policy saw them (noisy)
    actions: np.ndarray | None = None    # actions the policy returned (before delay)
    dts: np.ndarray | None = None        # dt given to the policy at that tick


def run_episode(env, policy, rng, duration=None, nominal_dt=0.02, obs_noise=0.0,
                dt_jitter=0.0, action_delay=0, event_sampling=False, dropout_probability=0.0,
                dropout_ticks=5.0, record=False):
    """One episode from env.reset(rng); ends at `duration` s of sim time (default: the
    task's env.time_limit after reset) or when env.done().

    The start state depends only on `rng`'s first spawned stream, so the same seed gives the
    same episode whatever the disturbances.
    """
    if not 0.0 <= dt_jitter < 1.0:
        raise ValueError(f'dt_jitter must be in [0, 1); got {dt_jitter}')
    if action_delay < 0 or int(action_delay) != action_delay:
        raise ValueError(f'action_delay must be a whole number of ticks >= 0; '
                         f'got {action_delay}')
    if not 0.0 <= dropout_probability < 1.0 or not dropout_ticks >= 1.0:
        raise ValueError(f'dropout_probability must be in [0, 1) and dropout_ticks >= 1; '
                         f'got {dropout_probability} and {dropout_ticks}')
    reset_rng, noise_rng = rng.spawn(2)
    env.reset(reset_rng)
    policy.reset()
    if hasattr(policy, 'bind'):
        policy.bind(env)

    def sampling_interval():
        if event_sampling:
            return noise_rng.exponential(nominal_dt)
        if dt_jitter:
            return nominal_dt * (1.0 + noise_rng.uniform(-dt_jitter, dt_jitter))
        return nominal_dt
    if duration is None:
        duration = env.time_limit
    noise_scale = obs_noise * np.asarray(env.obs_scale, dtype=np.float64)
    pending = deque([env.safe_action()] * int(action_delay))
    log = {'times': [], 'obs': [], 'actions': [], 'dts': []}
    ret, steps = 0.0, 0
    dt = nominal_dt                       # the first step is told the nominal period
    while env.time < duration - 1e-9 and not env.done():
        obs = env.observe()
        if obs_noise:
            obs = obs + noise_scale * noise_rng.standard_normal(obs.shape)
        action = np.asarray(policy.act(obs, dt), dtype=np.float64)
        if record:
            log['times'].append(env.time)
            log['obs'].append(obs)
            log['actions'].append(action)
            log['dts'].append(dt)
        pending.append(action)
        env.apply(pending.popleft())
        period = sampling_interval()
        # Drawn only when dropouts are on: the other conditions keep their random streams.
        if dropout_probability and noise_rng.uniform() < dropout_probability:
            lost = noise_rng.geometric(1.0 / dropout_ticks)
            period += sum(sampling_interval() for _ in range(lost))
        dt = env.advance(period)
        ret += env.reward()
        steps += 1
    metrics = env.metrics()
    result = EpisodeResult(success=bool(metrics['success']), ret=ret,
                           tracking_error=float(metrics['tracking_error']),
                           max_tracking_error=float(metrics['max_tracking_error']),
                           steps=steps, metrics=metrics)
    if record:
        result.times = np.array(log['times'])
        result.obs = np.array(log['obs']).reshape(steps, -1)
        result.actions = np.array(log['actions']).reshape(steps, -1)
        result.dts = np.array(log['dts'])
    return result


def episode_rng(seed, episode):
    """The generator of episode `episode` in an evaluation seeded `seed`."""
    return np.random.default_rng([int(seed), int(episode)])


def wilson_interval(successes, trials, z=1.959964):
    """95% Wilson score interval for a success rate."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class Evaluation:
    results: list
    summary: dict


def metric_means(results):
    """Mean over the episodes of each numeric metric every episode reported (bools: the
    fraction true); episodes where a metric is NaN (not reached) are left out of its mean."""
    if not results:
        return {}
    names = [k for k, v in results[0].metrics.items()
             if isinstance(v, (bool, int, float, np.bool_, np.number))
             and all(k in r.metrics for r in results)]
    means = {}
    for name in names:
        values = np.array([float(r.metrics[name]) for r in results])
        finite = values[np.isfinite(values)]
        means[name] = float(finite.mean()) if finite.size else float('nan')
    return means


def summarise(results):
    n = len(results)
    wins = sum(r.success for r in results)
    return {
        'episodes': n,
        'successes': wins,
        'success_rate': wins / n if n else float('nan'),
        'success_ci95': wilson_interval(wins, n),
        'mean_return': float(np.mean([r.ret for r in results])) if n else float('nan'),
        'mean_tracking_error': float(np.mean([r.tracking_error for r in results]))
        if n else float('nan'),
        'mean_max_tracking_error': float(np.mean([r.max_tracking_error for r in results]))
        if n else float('nan'),
        'metric_means': metric_means(results),
    }


def evaluate(make_env, policy_factory, episodes, seed, **conditions):
    """Run `episodes` episodes; episode i uses episode_rng(seed, i), so every policy
    evaluated with the same seed meets the same start states (and, for equal conditions,
    the same noise). `make_env()` and `policy_factory()` are each called once; conditions
    are run_episode's keyword arguments (duration, nominal_dt, obs_noise, ...)."""
    env = make_env()
    policy = policy_factory()
    results = [run_episode(env, policy, episode_rng(seed, i), **conditions)
               for i in range(episodes)]
    return Evaluation(results=results, summary=summarise(results))
