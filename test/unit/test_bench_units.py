"""The benchmarks' own logic, without timing anything: matching commands to sensor messages,
the echo model, the numpy GRU, the study's statistics and the findings rules."""
import numpy as np
import pytest

from liquid_control_tools.bench import ros_harness as rh
from liquid_control_tools.bench.e2e_latency import phase_analysis
from liquid_control_tools.bench.study import Condition, conditions, group_levels, mcnemar_p
from liquid_control_tools.bench.study_report import comparisons, findings, holm

from model_factory import build_model


def test_sequence_values_round_trip_and_never_collide_with_the_safe_command():
    for seq in (0, 1, 7, 999, 1000, 123456):
        assert rh.value_residue(rh.seq_value(seq)) == seq % rh.SEQ_WRAP
        assert rh.seq_value(seq) > 0
    assert rh.value_residue(0.0) is None
    assert rh.value_residue(0.0123) is None
    assert max(rh.seq_value(s) for s in range(rh.SEQ_WRAP)) < 30.0   # inside the force limit


def test_latencies_match_each_message_to_the_first_command_computed_from_it():
    ms = 1_000_000
    published = [(seq, 10 * ms * seq, 0) for seq in range(2500)]      # every 10 ms
    commands = []
    for seq in range(2500):
        if seq == 5:
            continue                       # superseded: no command ever carried it
        t = 10 * ms * seq + 3 * ms
        commands.append((float(np.float32(rh.seq_value(seq))), t))
        commands.append((float(np.float32(rh.seq_value(seq))), t + 2 * ms))   # repeated
    commands.append((0.0, 0))              # the safe command
    e2e, unmatched = rh.latencies(published, commands)
    assert unmatched == 1
    assert np.isnan(e2e[5])
    ok = np.delete(e2e, 5)
    assert np.allclose(ok, 3 * ms)         # the first command, across sequence wrap-arounds


def test_phase_analysis_finds_the_phase_just_before_the_tick():
    period = 2_000_000
    rng = np.random.default_rng(0)
    mono = np.sort(rng.integers(0, 400 * period, 4000))
    tick_phase = 1_500_000
    wait = (tick_phase - mono % period) % period
    e2e = wait + 200_000.0
    published = [(i, 0, int(m)) for i, m in enumerate(mono)]
    medians, counts, best, aligned = phase_analysis(published, e2e, period, bins=20)
    assert counts.sum() == 4000
    assert best == 14                       # [1.4, 1.5) ms: just before the tick at 1.5 ms
    assert aligned.max() <= 300_000 + 1


def test_echo_model_commands_the_first_observation_and_keeps_the_state(tmp_path):
    from liquid_control.runtime import load_controller
    src = tmp_path / 'cfc.onnx'
    build_model(src, cell='cfc', n_obs=4, n_hidden=8, n_act=1, seed=3)
    dst = rh.echo_model(src, tmp_path / 'echo.onnx')
    original, echo = load_controller(src), load_controller(dst)
    rng = np.random.default_rng(1)
    for _ in range(5):
        obs = rng.normal(0, 1, 4).astype(np.float32)
        obs[0] = rh.seq_value(int(rng.integers(0, 90)))   # within this test model's +-1 limit
        original.step(obs, 0.02)
        action = echo.step(obs, 0.02)
        assert action[0] == np.float32(obs[0])
        np.testing.assert_array_equal(echo.state, original.state)


def test_numpy_gru_matches_the_torch_policy():
    pytest.importorskip('torch')
    from liquid_control.tasks import get_task
    from liquid_control_tools.bench.common import untrained_policy
    from liquid_control_tools.bench.step_latency import NumpyGRUStepper, check_parity
    policy = untrained_policy(get_task('cartpole'), 'gru')
    assert check_parity(policy, NumpyGRUStepper(policy)) < 1e-5


def test_mcnemar_and_holm():
    a = [True] * 30 + [False] * 70
    assert mcnemar_p(a, a) == 1.0
    b = [False] * 30 + [False] * 70
    assert mcnemar_p(a, b) == pytest.approx(2 * 0.5 ** 30)
    assert mcnemar_p(b, a) == mcnemar_p(a, b)
    assert 0.05 < mcnemar_p([True] * 3 + [False] * 97, [False] * 100) <= 1.0
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])


def test_conditions_cover_the_issue():
    for task, physics in (('cartpole', 4), ('diffdrive', 2)):
        conds = conditions(task)
        ids = [c.id for c in conds]
        assert len(ids) == len(set(ids))
        for needed in ('nominal', 'noise_5', 'noise_10', 'jitter_25', 'jitter_50', 'rate_25',
                       'rate_100', 'delay_1', 'delay_2'):
            assert needed in ids
        assert sum(1 for c in conds if c.physics) == physics
    rate = {c.id: c for c in conditions('cartpole')}['rate_25']
    assert rate.episode_kwargs()['nominal_dt'] == pytest.approx(0.04)
    assert group_levels('cartpole', 'control rate') == [(25, 'rate_25'), (50.0, 'nominal'),
                                                       (100, 'rate_100')]
    assert Condition('x', 'g', 'l', 0.0).episode_kwargs()['nominal_dt'] == pytest.approx(0.02)


def _cell(successes, n=100, first=0):
    s = [first <= i < first + successes for i in range(n)]
    from liquid_control.sim.episode import wilson_interval
    return {'success': s, 'success_rate': successes / n,
            'success_ci95': list(wilson_interval(successes, n)), 'ret': [1.0] * n,
            'tracking_error': [0.1] * n}


def test_findings_say_when_the_gru_wins_and_when_a_gap_is_noise():
    conds = [{'id': 'nominal', 'label': 'nominal', 'group': 'nominal'},
             {'id': 'rate_25', 'label': '25 Hz', 'group': 'control rate'},
             {'id': 'noise_10', 'label': 'noise 10%', 'group': 'observation noise'}]
    data = {'models': {a: {'source': 'shipped'} for a in ('cfc', 'gru', 'expert')},
            'conditions': conds,
            'cells': {'nominal': {'cfc': _cell(95), 'gru': _cell(96), 'expert': _cell(100)},
                      'rate_25': {'cfc': _cell(20), 'gru': _cell(90), 'expert': _cell(50)},
                      'noise_10': {'cfc': _cell(70), 'gru': _cell(58, first=30),
                                   'expert': _cell(99)}}}
    comps = {c['condition']: c for c in comparisons(data)}
    assert comps['rate_25']['p_holm'] < 0.05 and comps['rate_25']['diff'] < 0
    text = ' '.join(findings('cartpole', data))
    assert '**GRU better**' in text and '25 Hz' in text
    assert 'within noise' in text and 'noise 10%' in text     # a 12-point gap, not a result
    assert 'expert itself succeeds in under 80%' in text
    assert 'one trained model' in text                        # no seeds were run
