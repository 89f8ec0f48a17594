"""The study run task by task: a run on some tasks replaces them in the last result and keeps
the others, with totals summed over the runs that made what the result holds."""
from liquid_control_tools.study.run import merge, mismatch



def result(tasks, wall, cpu, episodes=100, archs=('cfc', 'gru')):
    figures = {'wall_seconds': wall, 'training_wall_seconds': wall / 2,
               'evaluation_wall_seconds': wall / 2, 'training_cpu_seconds': cpu,
               'evaluation_cpu_seconds': cpu, 'models_trained': len(tasks), 'cells_run': 10,
               'backend': 'pool', 'workers': 2}
    return {'episodes': episodes, 'seed_episodes': 50, 'duration_override_s': None,
            'seed': 7, 'archs': list(archs), 'quick': False,
            'tasks': {t: {'marker': (t, wall)} for t in tasks},
            'runs': [{'tasks': list(tasks), **figures}], **figures}


def test_a_run_on_new_tasks_adds_them_and_sums_the_costs():
    merged = merge(result(['a'], 100, 10), result(['b', 'c'], 50, 5))
    assert list(merged['tasks']) == ['a', 'b', 'c']
    assert merged['wall_seconds'] == 150 and merged['training_cpu_seconds'] == 15
    assert merged['models_trained'] == 3 and merged['cells_run'] == 20
    assert [r['tasks'] for r in merged['runs']] == [['a'], ['b', 'c']]


def test_a_rerun_task_replaces_the_old_one_and_a_run_left_with_no_task_drops_out():
    first = merge(result(['a'], 100, 10), result(['b'], 50, 5))
    again = merge(first, result(['a'], 30, 3))
    assert again['tasks']['a'] == {'marker': ('a', 30)}
    assert again['tasks']['b'] == {'marker': ('b', 50)}
    assert again['wall_seconds'] == 80 and again['evaluation_cpu_seconds'] == 8
    assert [r['tasks'] for r in again['runs']] == [['b'], ['a']]


def test_a_run_partly_rerun_keeps_its_other_tasks_and_counts_whole():
    merged = merge(result(['a', 'b'], 100, 10), result(['a'], 30, 3))
    assert [r['tasks'] for r in merged['runs']] == [['b'], ['a']]
    assert merged['wall_seconds'] == 130


def test_results_measured_differently_are_not_merged_and_say_why():
    assert mismatch(result(['a'], 1, 1), result(['b'], 1, 1)) == ''
    assert 'episodes' in mismatch(result(['a'], 1, 1, episodes=50), result(['b'], 1, 1))
    assert 'archs' in mismatch(result(['a'], 1, 1, archs=('cfc',)), result(['b'], 1, 1))
    assert 'quick' in mismatch(dict(result(['a'], 1, 1), quick=True), result(['b'], 1, 1))
    old = result(['a'], 1, 1)
    del old['runs']
    assert 'per-run' in mismatch(old, result(['b'], 1, 1))


def test_the_report_states_the_totals_and_each_run_of_a_merged_study():
    from liquid_control_tools.study.report import cost_note
    merged = merge(result(['a'], 3600, 1800), result(['b', 'c'], 1800, 900))
    text = '\n'.join(cost_note(merged))
    assert 'in 1.50 h of wall time' in text and '1.50 CPU-hours' in text
    assert 'in 2 runs' in text
    assert '- a: 1.00 h of wall time, 1.00 CPU-hours' in text
    assert '- b, c: 0.50 h of wall time, 0.50 CPU-hours' in text
    assert 'runs' not in '\n'.join(cost_note(result(['a'], 3600, 1800)))


def test_runs_on_different_backends_are_listed_in_a_fixed_order():
    on_ray = result(['b'], 10, 1)
    on_ray['runs'][0].update(backend='ray', workers=16)
    merged = merge(merge(result(['a'], 10, 1), on_ray), result(['c'], 10, 1))
    assert merged['backend'] == 'pool, ray' and merged['workers'] == '16, 2'
    assert merge(result(['a'], 10, 1), result(['b'], 10, 1))['workers'] == 2
