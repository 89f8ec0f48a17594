"""Episode runner: timing, disturbances, seeding and evaluation statistics.

A tiny scripted environment checks the runner's bookkeeping exactly; the real tasks show
that each disturbance changes what happens."""
import math

import numpy as np
import pytest

from liquid_control.sim.episode import (EpisodeResult, episode_rng, evaluate, run_episode,
                                        wilson_interval)
from liquid_control.tasks.cartpole.env import CartPoleEnv
from liquid_control.tasks.cartpole.expert import CartPoleExpert


class ScriptedEnv:
    """x' = u with a 1 ms step; records every action that reaches it."""

    physics_dt = 0.001
    time_limit = 0.5
    obs_scale = np.array([2.0, 0.5])

    def __init__(self, done_at=None):
        self.done_at = done_at

    def reset(self, rng):
        self.start = rng.uniform(-1.0, 1.0)
        self.x, self.time, self.u, self.last_dt = self.start, 0.0, 0.0, 0.0
        self.applied = []

    def safe_action(self):
        return np.zeros(1)

    def observe(self):
        return np.array([self.x, 3.0])

    def apply(self, action):
        self.u = float(np.clip(action[0], -100.0, 100.0))
        self.applied.append(self.u)

    def advance(self, duration):
        n = max(int(round(duration / self.physics_dt)), 1)
        self.last_dt = n * self.physics_dt
        self.x += self.u * self.last_dt
        self.time += self.last_dt
        return self.last_dt

    def done(self):
        return self.done_at is not None and self.x >= self.done_at

    def metrics(self):
        return {'success': abs(self.x) < 0.1, 'tracking_error': abs(self.x),
                'max_tracking_error': abs(self.x), 'start': self.start}

    def reward(self):
        return self.last_dt


class Counter:
    """Returns the tick number as its action; remembers the dts it was given."""

    def reset(self):
        self.tick, self.dts = 0, []

    def act(self, obs, dt):
        self.dts.append(dt)
        self.tick += 1
        return np.array([float(self.tick - 1)])


class Zero:
    def reset(self):
        pass

    def act(self, obs, dt):
        return np.zeros(1)


def test_nominal_ticks_without_disturbance():
    env, policy = ScriptedEnv(), Counter()
    result = run_episode(env, policy, np.random.default_rng(0), duration=0.2, record=True)
    assert isinstance(result, EpisodeResult)
    assert result.steps == 10
    assert result.dts.tolist() == [0.02] * 10
    assert result.times == pytest.approx(np.arange(10) * 0.02)
    assert result.obs.shape == (10, 2) and result.actions.shape == (10, 1)
    assert result.ret == pytest.approx(0.2)
    assert env.applied == list(range(10))            # each action applied at once


def test_default_duration_is_the_tasks_time_limit_and_done_stops_early():
    result = run_episode(ScriptedEnv(), Zero(), np.random.default_rng(0))
    assert result.steps == 25                         # 0.5 s / 0.02 s
    env = ScriptedEnv(done_at=1.5)
    result = run_episode(env, Counter(), np.random.default_rng(0), duration=10.0)
    assert env.done() and result.steps < 500


def test_dt_jitter_varies_whole_step_periods_and_the_policy_sees_them():
    env, policy = ScriptedEnv(), Counter()
    result = run_episode(env, policy, np.random.default_rng(1), duration=2.0,
                         dt_jitter=0.5, record=True)
    dts = result.dts[1:]                               # [0] is the nominal first period
    assert len(set(np.round(dts, 6))) > 5
    assert np.allclose(dts / env.physics_dt, np.round(dts / env.physics_dt))
    assert dts.min() >= 0.01 - 1e-9 and dts.max() <= 0.03 + 1e-9
    # the dt given at a tick is the time actually elapsed since the previous tick
    assert np.diff(result.times) == pytest.approx(dts)
    assert policy.dts == pytest.approx(result.dts.tolist())


def test_dt_jitter_never_rounds_to_zero_steps():
    result = run_episode(ScriptedEnv(), Zero(), np.random.default_rng(2), duration=0.05,
                         nominal_dt=0.001, dt_jitter=0.9, record=True)
    assert result.dts.min() >= 0.001 - 1e-12


def test_event_sampling_draws_exponential_whole_step_intervals_the_policy_sees():
    env, policy = ScriptedEnv(), Counter()
    result = run_episode(env, policy, np.random.default_rng(4), duration=60.0,
                         event_sampling=True, dt_jitter=0.5, record=True)
    dts = result.dts[1:]
    assert np.allclose(dts / env.physics_dt, np.round(dts / env.physics_dt))
    assert dts.min() >= env.physics_dt - 1e-12
    # Mean and spread of an exponential of mean nominal_dt (0.02 s), not the jitter's
    # +-50%: long gaps occur.
    assert dts.mean() == pytest.approx(0.02, rel=0.1)
    assert dts.std() == pytest.approx(0.02, rel=0.15)
    assert dts.max() > 0.08
    assert np.diff(result.times) == pytest.approx(dts)
    assert policy.dts == pytest.approx(result.dts.tolist())


@pytest.mark.parametrize('delay', [0, 1, 3])
def test_action_delay_in_ticks(delay):
    env = ScriptedEnv()
    run_episode(env, Counter(), np.random.default_rng(0), duration=0.2, action_delay=delay)
    applied = env.applied
    assert applied == [0.0] * delay + list(range(10 - delay))


def test_obs_noise_is_a_fraction_of_each_signals_spread():
    env = ScriptedEnv()
    result = run_episode(env, Zero(), np.random.default_rng(3), duration=20.0,
                         obs_noise=0.1, record=True)
    clean = np.array([env.start, 3.0])               # Zero never moves the state
    noise = result.obs - clean
    assert noise.std(axis=0) == pytest.approx(0.1 * env.obs_scale, rel=0.1)
    assert abs(noise.mean(axis=0)).max() < 0.02


def test_same_seed_same_start_whatever_the_disturbances():
    starts = []
    for conditions in ({}, {'obs_noise': 0.3}, {'dt_jitter': 0.5, 'action_delay': 2},
                       {'event_sampling': True}):
        env = ScriptedEnv()
        run_episode(env, Zero(), episode_rng(7, 3), duration=0.1, **conditions)
        starts.append(env.start)
    assert starts[0] == starts[1] == starts[2] == starts[3]


def test_bad_conditions_are_refused():
    with pytest.raises(ValueError, match='dt_jitter'):
        run_episode(ScriptedEnv(), Zero(), np.random.default_rng(0), dt_jitter=1.0)
    with pytest.raises(ValueError, match='action_delay'):
        run_episode(ScriptedEnv(), Zero(), np.random.default_rng(0), action_delay=-1)


def test_evaluate_gives_every_policy_the_same_episodes():
    first = evaluate(ScriptedEnv, Zero, episodes=6, seed=11, duration=0.1)
    second = evaluate(ScriptedEnv, Counter, episodes=6, seed=11, duration=0.1)
    other_seed = evaluate(ScriptedEnv, Zero, episodes=6, seed=12, duration=0.1)
    starts = [r.metrics['start'] for r in first.results]
    assert starts == [r.metrics['start'] for r in second.results]
    assert starts != [r.metrics['start'] for r in other_seed.results]
    assert len(set(starts)) == 6
    summary = first.summary
    assert summary['episodes'] == 6
    assert summary['success_rate'] == sum(r.success for r in first.results) / 6
    assert summary['success_ci95'] == wilson_interval(summary['successes'], 6)
    assert summary['mean_return'] == pytest.approx(0.1)
    assert summary['mean_tracking_error'] == pytest.approx(np.mean(np.abs(starts)))


@pytest.mark.parametrize('wins,n,low,high', [
    (10, 10, 0.7225, 1.0), (0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634),
    (95, 100, 0.8882, 0.9785),
])
def test_wilson_interval(wins, n, low, high):
    lo, hi = wilson_interval(wins, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


# --- the disturbances change what happens on a real task ------------------------------


def balance(**conditions):
    env, expert = CartPoleEnv(), CartPoleExpert()
    return run_episode(env, expert, episode_rng(0, 0), duration=4.0, record=True,
                       **conditions)


def test_disturbances_change_a_real_episode():
    clean = balance()
    noisy = balance(obs_noise=0.1)
    jittered = balance(dt_jitter=0.5)
    delayed = balance(action_delay=3)
    heavy = run_episode(CartPoleEnv({'pole_mass_scale': 1.5}), CartPoleExpert(),
                        episode_rng(0, 0), duration=4.0, record=True)
    assert noisy.obs[0] != pytest.approx(clean.obs[0])
    assert noisy.tracking_error > clean.tracking_error
    assert len(set(np.round(jittered.dts, 6))) > 5 and len(set(clean.dts)) == 1
    assert delayed.actions[5:50] != pytest.approx(clean.actions[5:50])
    # same first observation (same start), different dynamics afterwards
    assert heavy.obs[0] == pytest.approx(clean.obs[0])
    assert heavy.obs[20] != pytest.approx(clean.obs[20], abs=1e-3)
    for result in (clean, noisy, jittered, delayed, heavy):
        assert math.isfinite(result.ret)
