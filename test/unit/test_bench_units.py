"""The benchmarks' own logic, without timing anything: matching commands to sensor messages,
the echo model, the numpy GRU, the study's statistics and the findings rules."""
import numpy as np
import pytest

from liquid_control_tools.bench import ros_harness as rh
from liquid_control_tools.bench.e2e_latency import phase_analysis
from liquid_control_tools.study.conditions import Condition, conditions, group_levels
from liquid_control_tools.study.report import claims_table, comparisons, cost_claim, overview, \
    seed_comparisons, seed_conditions_of
from liquid_control_tools.study.stats import holm, mcnemar_p, seed_interval, welch_p

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
    for task, physics in (('cartpole', 4), ('diffdrive', 2), ('cartpole_positions', 4)):
        conds = conditions(task)
        ids = [c.id for c in conds]
        assert len(ids) == len(set(ids))
        for needed in ('nominal', 'noise_5', 'noise_10', 'jitter_25', 'jitter_50', 'rate_25',
                       'rate_100', 'delay_1', 'delay_2', 'event', 'dropout_5', 'dropout_10'):
            assert needed in ids
        assert sum(1 for c in conds if c.physics) == physics
    by_id = {c.id: c for c in conditions('cartpole')}
    assert by_id['rate_25'].episode_kwargs()['nominal_dt'] == pytest.approx(0.04)
    assert by_id['event'].episode_kwargs()['event_sampling'] is True
    assert by_id['dropout_10'].episode_kwargs()['dropout_probability'] == pytest.approx(0.1)
    assert group_levels('cartpole', 'control rate') == [(25, 'rate_25'), (50.0, 'nominal'),
                                                       (100, 'rate_100')]
    assert group_levels('cartpole', 'sensor dropouts') == [(0.0, 'nominal'), (5, 'dropout_5'),
                                                          (10, 'dropout_10')]
    assert Condition('x', 'g', 'l', 0.0).episode_kwargs()['nominal_dt'] == pytest.approx(0.02)


def test_seed_statistics():
    # Welch's t-test against a textbook value: t = 1, df = 8 -> two-sided p = 0.3466.
    assert welch_p([1, 2, 3, 4, 5], [2, 3, 4, 5, 6]) == pytest.approx(0.34659, abs=1e-4)
    # n = 3 each, unit variances: df = 4, and t = 2.776 (d = 2.776 * sqrt(2/3)) is the 5%
    # critical value.
    d = 2.776445 * (2 / 3) ** 0.5
    assert welch_p([0.0, 1.0, 2.0], [d, d + 1, d + 2]) == pytest.approx(0.05, abs=1e-5)
    assert np.isnan(welch_p([0.5], [0.1, 0.2]))
    mean, lo, hi = seed_interval([0.8, 0.9, 1.0])
    assert mean == pytest.approx(0.9) and lo == pytest.approx(0.9 - 4.303 * 0.1 / 3 ** 0.5)
    assert hi == 1.0                                         # clipped: a rate
    assert np.isnan(seed_interval([0.5])[1])


def _cell(successes, n=100, first=0):
    s = [first <= i < first + successes for i in range(n)]
    from liquid_control.sim.episode import wilson_interval
    return {'success': s, 'success_rate': successes / n, 'episodes': n,
            'success_ci95': list(wilson_interval(successes, n)), 'ret': [1.0] * n,
            'tracking_error': [0.1] * n}


def _study(per_seed_rates):
    """A one-task study whose seeds have the given success rates per arch and condition."""
    conds = [{'id': cid, 'label': cid, 'group': cid} for cid in
             ('nominal', 'event', 'noise_10', 'rate_25')]
    seeds = {arch: {str(k): {cid: {'success_rate': rates[cid][k], 'episodes': 50}
                             for cid in rates}
                    for k in range(len(next(iter(rates.values()))))}
             for arch, rates in per_seed_rates.items()}
    data = {'models': {a: {'n_params': 1000, 'step_us_median': 10.0} for a in per_seed_rates},
            'conditions': conds, 'seeds': seeds, 'training': {},
            'cells': {c['id']: {a: _cell(int(100 * per_seed_rates[a][c['id']][0]))
                                for a in per_seed_rates} for c in conds},
            'partially_observed': True}
    return {'tasks': {'cartpole_positions': data}}


def test_claims_are_settled_by_the_across_seed_rules():
    high, low, mid = [0.9, 0.92, 0.95, 0.91, 0.93], [0.5, 0.55, 0.45, 0.6, 0.52], \
        [0.7, 0.72, 0.68, 0.71, 0.69]
    study = _study({'cfc': {'nominal': high, 'event': high, 'noise_10': mid, 'rate_25': low},
                    # A small gap within the seeds' spread: not a difference.
                    'gru': {'nominal': high, 'event': low,
                            'noise_10': [0.66, 0.73, 0.64, 0.7, 0.69], 'rate_25': high},
                    'mlp': {'nominal': high, 'event': low, 'noise_10': mid, 'rate_25': low}})
    data = study['tasks']['cartpole_positions']
    comps = {(c['a'], c['b'], c['condition']): c
             for c in seed_comparisons(data, [('cfc', 'gru'), ('cfc', 'mlp')])}
    assert comps['cfc', 'gru', 'event']['p_holm'] < 0.05 < comps['cfc', 'gru', 'noise_10']['p']
    assert comps['cfc', 'gru', 'noise_10']['diff'] > 0
    rows = {line.split(' | ')[0].strip('| '): line for line in claims_table(study).splitlines()}
    assert 'supported: CfC > GRU on cartpole_positions (event)' in \
        rows['Continuous time handles irregularly sampled data']
    assert 'Beyond the memoryless MLP: CfC on cartpole_positions (event)' in \
        rows['Continuous time handles irregularly sampled data']
    assert 'not supported: no liquid network differs' in rows['Robust to noisy observations']
    assert 'not supported: the GRU is better: GRU > CfC on cartpole_positions (rate_25)' in \
        rows['Generalises to a control rate it was not trained at']
    assert 'not measurable here' in rows['Online learning / adaptive dynamics']
    assert 'Memory without recurrence' not in claims_table(study)      # no MLP-stack here
    text = ' '.join(overview(study))
    assert 'The memoryless MLP (92%) does as well as CfC (92%) at nominal conditions on this ' \
        'task.' in text
    # A condition only seed 0 met has no across-seed figures.
    data['conditions'].append({'id': 'noise_5', 'label': 'noise_5', 'group': 'noise'})
    for per_seed in data['seeds'].values():
        per_seed['0']['noise_5'] = {'success_rate': 0.5, 'episodes': 50}
    assert seed_conditions_of(data) == ['nominal', 'event', 'noise_10', 'rate_25']


def test_a_claim_says_where_memory_without_recurrence_beats_the_liquid_networks():
    high, low = [0.9, 0.92, 0.95, 0.91, 0.93], [0.5, 0.55, 0.45, 0.6, 0.52]
    level = [0.52, 0.5, 0.55, 0.47, 0.58]
    study = _study({'cfc': {'nominal': low, 'event': low, 'noise_10': low, 'rate_25': low},
                    'gru': {'nominal': low, 'event': low, 'noise_10': low, 'rate_25': low},
                    'mlp': {'nominal': low, 'event': low, 'noise_10': low, 'rate_25': low},
                    'mlp_stack': {'nominal': high, 'event': high, 'noise_10': level,
                                  'rate_25': low}})
    rows = {line.split(' | ')[0].strip('| '): line for line in claims_table(study).splitlines()}
    assert 'Memory without recurrence does better: MLP-stack (8) > CfC on cartpole_positions ' \
        '(event)' in rows['Continuous time handles irregularly sampled data']
    assert 'MLP-stack (8) 92 (' in rows['Continuous time handles irregularly sampled data']
    for claim in ('Robust to noisy observations',
                  'Generalises to a control rate it was not trained at'):
        assert 'Memory without recurrence' not in rows[claim]


def test_an_mlp_level_with_a_liquid_network_that_both_fail_is_not_doing_as_well():
    failing, failing_too = [0.0, 0.02, 0.0, 0.04, 0.0], [0.02, 0.0, 0.06, 0.0, 0.02]
    working = [0.9, 0.92, 0.95, 0.91, 0.93]

    def sentence(nominal):
        rates = {a: {cid: r for cid in ('nominal', 'event', 'noise_10', 'rate_25')}
                 for a, r in nominal.items()}
        lines = [line for line in overview(_study(rates)) if 'memoryless MLP' in line]
        assert len(lines) == 1
        return lines[0].strip(' -')

    assert sentence({'ltc': failing_too, 'ncp': failing_too, 'mlp': failing}) == \
        'The memoryless MLP (1%) is level with LTC (2%) and NCP-CfC (2%) at nominal ' \
        'conditions on this task: all fail.'
    assert sentence({'ltc': failing_too, 'mlp': failing}).endswith(': both fail.')
    # Just at the threshold of failing: level, and doing as well.
    at_threshold = [0.18, 0.22, 0.2, 0.19, 0.21]
    assert sentence({'cfc': at_threshold, 'mlp': [0.2, 0.21, 0.19, 0.2, 0.2]}) == \
        'The memoryless MLP (20%) does as well as CfC (20%) at nominal conditions on this task.'
    # An MLP that fails, level with one failing and one (noisy) working liquid network.
    noisy = [0.0, 0.6, 0.05, 0.5, 0.0]
    assert sentence({'cfc': noisy, 'ltc': failing_too, 'mlp': failing}) == \
        'The memoryless MLP (1%) is level across seeds with CfC (23%) at nominal conditions ' \
        'on this task: the seeds spread more than the gap; it and LTC (2%) both fail.'
    # A working MLP level with a failing liquid network: not "both fail".
    assert sentence({'ltc': failing_too, 'mlp': noisy}).startswith(
        'The memoryless MLP (23%) is level across seeds with LTC (2%) at nominal')
    assert sentence({'cfc': working, 'mlp': working}).startswith(
        'The memoryless MLP (92%) does as well as CfC (92%)')


def _cost_study(steps_by_task):
    """A study whose models have only the given median step times (µs) on each task."""
    return {'tasks': {task: {'models': {a: {'step_us_median': s} for a, s in steps.items()}}
                      for task, steps in steps_by_task.items()}}


def test_the_cost_verdict_follows_the_step_time_ratios_to_the_gru():
    study = _cost_study({'a': {'cfc': 5.0, 'ltc': 25.0, 'ncp': 9.2, 'gru': 10.0},
                         'b': {'cfc': 6.0, 'ltc': 34.0, 'ncp': 10.9, 'gru': 10.0}})
    claim, _, figures, verdict = cost_claim(study)
    assert claim == 'Computational cost per step'
    assert figures == 'a: CfC 5.0 µs, LTC 25.0 µs, NCP-CfC 9.2 µs, GRU 10.0 µs <br> ' \
        'b: CfC 6.0 µs, LTC 34.0 µs, NCP-CfC 10.9 µs, GRU 10.0 µs'
    assert verdict == (
        '"cheaper per step than a GRU": CfC supported, 0.50–0.60x the GRU (40–50% cheaper); '
        'LTC not supported, costs 2.50–3.40x the GRU; NCP-CfC not supported, about the same '
        'as the GRU (0.92–1.09x). Step-time ratios within ±10% of 1 read as about the same '
        '(single-run timings on a shared machine).')
    # Cheaper on one task, about the same on another, dearer on a third: mixed.
    _, _, _, verdict = cost_claim(_cost_study({'a': {'cfc': 8.8, 'gru': 10.0},
                                               'b': {'cfc': 10.0, 'gru': 10.0},
                                               'c': {'cfc': 11.2, 'gru': 10.0}}))
    assert verdict.startswith('"cheaper per step than a GRU": CfC mixed, 0.88–1.12x the GRU '
                              '(cheaper on a: 0.88x, about the same on b: 1.00x, costs more '
                              'on c: 1.12x).')
    _, _, _, verdict = cost_claim(_cost_study({'a': {'ncp': 5.0, 'gru': 10.0},
                                               'b': {'ncp': 20.0, 'gru': 10.0}}))
    assert verdict.startswith('"cheaper per step than a GRU": NCP-CfC mixed, 0.50–2.00x the '
                              'GRU (cheaper on a: 0.50x, costs more on b: 2.00x).')
    # Only the archs present are judged; without a GRU nothing is.
    _, _, _, verdict = cost_claim(_cost_study({'a': {'ltc': 20.0, 'gru': 10.0}}))
    assert verdict.startswith('"cheaper per step than a GRU": LTC not supported, costs 2.00x '
                              'the GRU.')
    assert cost_claim(_cost_study({'a': {'cfc': 5.0}}))[3] == 'not measured'


def test_single_model_comparisons_pair_the_episodes():
    conds = [{'id': 'nominal', 'label': 'nominal', 'group': 'nominal'},
             {'id': 'rate_25', 'label': '25 Hz', 'group': 'control rate'},
             {'id': 'noise_10', 'label': 'noise 10%', 'group': 'observation noise'}]
    data = {'models': {a: {} for a in ('cfc', 'gru', 'expert')}, 'conditions': conds,
            'cells': {'nominal': {'cfc': _cell(95), 'gru': _cell(96)},
                      'rate_25': {'cfc': _cell(20), 'gru': _cell(90)},
                      'noise_10': {'cfc': _cell(70), 'gru': _cell(58, first=30)}}}
    comps = {c['condition']: c for c in comparisons(data)}
    assert comps['rate_25']['p_holm'] < 0.05 and comps['rate_25']['diff'] < 0
    # A 12-point gap over episodes that mostly differ: not significant.
    assert comps['noise_10']['p_holm'] > 0.05 and comps['noise_10']['diff'] > 0.1


def test_floor_ratios_read_a_floor_of_zero_at_the_resolution():
    from liquid_control_tools.bench.loop_timing import floor_ratios
    node = {'p99_us': 30.0, 'missed_percent': 0.2}
    assert floor_ratios(node, {'p99_us': 20.0, 'missed_percent': 0.1}) == {
        'p99_to_bare': 1.5, 'missed_to_bare': 2.0}
    # A floor with no missed tick and a p99 of 0: read as 0.05% and 1 us.
    assert floor_ratios({'p99_us': 0.5, 'missed_percent': 0.0},
                        {'p99_us': 0.0, 'missed_percent': 0.0}) == {
        'p99_to_bare': 0.5, 'missed_to_bare': 1.0}


def test_cpu_rows_are_averaged_over_rounds_and_compared_with_sleep_only():
    from liquid_control_tools.bench.cpu_memory import combine

    def row(rate, busy, cpu, rss):
        return {'rate_hz': rate, 'busy_wait_us': busy, 'cpu_percent': cpu, 'rss_mib': rss}
    rows = combine([row(100.0, 500, 12.0, 100), row(100.0, 0, 8.0, 100),
                    row(100.0, 500, 18.0, 101), row(100.0, 0, 12.0, 101),
                    row(1000.0, 500, 70.0, 102)])
    by_key = {(r['rate_hz'], r['busy_wait_us']): r for r in rows}
    assert by_key[(100.0, 500)]['cpu_percent'] == 15.0
    assert by_key[(100.0, 500)]['cpu_rounds'] == [12.0, 18.0]
    assert by_key[(100.0, 500)]['rss_mib'] == 101           # the last window's memory
    assert by_key[(100.0, 500)]['cpu_to_sleep_only'] == 1.5
    assert 'cpu_to_sleep_only' not in by_key[(100.0, 0)]
    assert 'cpu_to_sleep_only' not in by_key[(1000.0, 500)]  # no sleep-only row to compare


def test_targets_are_ratios_to_floors_of_the_same_run():
    from liquid_control_tools.bench.report import targets
    loop = {'rows': [{'rate_hz': 100.0, 'p99_to_bare': 1.2, 'missed_to_bare': 1.6,
                      'tick_to_model_step': 2.0,
                      'node': {'p99_us': 12.0, 'missed_percent': 0.08, 'tick_p50_us': 100.0,
                               'tick_model_step_p50_us': 50.0},
                      'bare': {'p99_us': 10.0, 'missed_percent': 0.05}}]}
    cpu = {'rows': [{'rate_hz': 100.0, 'busy_wait_us': 500, 'cpu_percent': 12.0,
                     'cpu_to_sleep_only': 1.4},
                    {'rate_hz': 1000.0, 'busy_wait_us': 500, 'cpu_percent': 70.0,
                     'cpu_to_sleep_only': 2.0}]}
    e2e = {'echo_us': {'p50': 400.0}, 'aligned_us': {'p50': 440.0},
           'aligned_to_echo_p50': 1.1, 'unsynchronised_us': {'p50': 1200.0},
           'sensor_trigger_us': {'p50': 600.0}, 'sensor_trigger_to_echo_p50': 1.5}
    rows = {name: verdict for name, _, verdict, _ in
            targets({'loop_timing': loop, 'cpu_memory': cpu, 'e2e_latency': e2e})}
    assert rows["100 Hz loop p99 period error ≤ 1.5x the bare loop's"] == 'PASS'
    assert rows["100 Hz missed ticks ≤ 1.5x the bare loop's"] == '**MISS**'
    assert rows["100 Hz tick median ≤ 2.5x the model step's"] == 'PASS'
    assert rows['100 Hz CPU with the default busy-wait ≤ 1.5x sleep-only'] == 'PASS'
    assert not any(name.startswith('1000 Hz CPU') for name in rows)   # above 200 Hz
    assert rows["e2e p50 in phase ≤ 1x a bare rclpy echo's"] == '**MISS**'
    assert rows["e2e p50 with trigger: sensor < the timer's free-running p50"] == 'PASS'


def test_the_study_compares_where_memory_can_matter_and_on_the_full_tasks_beside_them():
    from liquid_control.tasks import get_task
    from liquid_control_tools.bench.common import Context
    tasks = Context().study_tasks()
    assert {'cartpole_positions', 'cartpole', 'arm_positions', 'arm'} <= set(tasks)
    assert 'diffdrive' not in tasks                # observed fully, and no variant of it
    for name in tasks:
        task = get_task(name)
        assert task.partially_observed or any(
            get_task(other).full_task is task for other in tasks)
    assert Context(tasks=['diffdrive']).study_tasks() == ('diffdrive',)


def test_an_mlp_level_only_because_the_seeds_spread_is_not_said_to_do_as_well():
    wide = [0.0, 1.0, 0.7, 0.1, 1.0]                # mean 56%, spread over everything
    rates = {'cfc': {cid: [1.0] * 5 for cid in ('nominal', 'event', 'noise_10', 'rate_25')},
             'mlp': {cid: wide for cid in ('nominal', 'event', 'noise_10', 'rate_25')}}
    lines = [line for line in overview(_study(rates)) if 'memoryless MLP' in line]
    assert lines == ['  - The memoryless MLP (56%) is level across seeds with CfC (100%) at '
                     'nominal conditions on this task: the seeds spread more than the gap.']
