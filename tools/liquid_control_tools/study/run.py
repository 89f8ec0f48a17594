"""The whole study (`liquid-control bench --only study [--backend ray]`): train the seeds'
models, then evaluate every model and the expert in every condition, on the backend asked
for; the results do not depend on the backend.

Result, per task: 'models' (seed-0 models: size, state, step time), 'conditions', 'cells'
({condition: {arch or 'expert': seed-0 cell}}, for the paired tests), 'seeds' ({arch:
{seed: {condition: cell}}}), 'training' ({arch: {seed: how the model was made}}); and the
wall time and the CPU time of the jobs, so a user can size a cluster.

A run on some tasks (`--tasks`) replaces those tasks in the last full-size result and keeps
the others, so the study can be run task by task (or re-run for one task); its totals are
then the sums over the runs that made the tasks it holds ('runs').
"""
from __future__ import annotations

import time
from dataclasses import asdict

from liquid_control_tools.bench.common import load_result, machine

from .backends import make_backend
from .conditions import STUDY_SEED, conditions
from .jobs import evaluate_cell, train_seed
from .plan import Plan


def run(ctx, plan=None):
    tasks = ctx.study_tasks()
    plan = plan or (Plan.quick_plan(tasks) if ctx.quick else
                    Plan(tasks=tasks, archs=tuple(ctx.archs) if ctx.archs else Plan.archs))
    backend = make_backend(ctx.backend, ctx.workers, ctx.ray_address)
    started = time.perf_counter()
    try:
        result = _run(ctx, plan, backend)
    finally:
        backend.close()
    result['wall_seconds'] = time.perf_counter() - started
    result['runs'] = [{'tasks': list(plan.tasks), 'commit': machine().get('commit'),
                       **{k: result[k] for k in RUN_FIGURES}}]
    previous = load_result(ctx, 'study') if ctx.tasks and not plan.quick else None
    if previous is not None:
        reason = mismatch(previous, result)
        if reason:
            ctx.log(f'study: not merged with the last result ({reason})')
        else:
            result = merge(previous, result)
            ctx.log(f'study: merged with the last result: tasks {", ".join(result["tasks"])}')
    return result


# What one run measured of itself; a merged result sums them over its runs.
RUN_FIGURES = ('wall_seconds', 'training_wall_seconds', 'evaluation_wall_seconds',
               'training_cpu_seconds', 'evaluation_cpu_seconds', 'models_trained',
               'cells_run', 'backend', 'workers')
# A merged result's tasks must have been measured alike.
SAME_DESIGN = ('episodes', 'seed_episodes', 'duration_override_s', 'seed', 'archs')


def mismatch(previous, result):
    """Why `previous` cannot be merged with `result` ('' if it can)."""
    if previous.get('quick'):
        return 'it was a quick run'
    if 'runs' not in previous:
        return 'it predates per-run figures'
    differ = [k for k in SAME_DESIGN if previous.get(k) != result.get(k)]
    return f'different {", ".join(differ)}' if differ else ''


def merge(previous, result):
    """`previous` with the tasks of `result` added or replaced; the totals summed over the
    runs that still hold a task (a run whose tasks were all re-run drops out; one with some
    re-run counts whole: its wall time cannot be split by task)."""
    new_tasks = set(result['tasks'])
    runs = []
    for run_ in previous['runs']:
        kept = [t for t in run_['tasks'] if t not in new_tasks]
        if kept:
            runs.append(dict(run_, tasks=kept))
    runs += result['runs']
    merged = dict(result, tasks={**{t: d for t, d in previous['tasks'].items()
                                    if t not in new_tasks}, **result['tasks']}, runs=runs)
    for key in RUN_FIGURES:
        if key in ('backend', 'workers'):
            values = sorted({str(r[key]) for r in runs})
            merged[key] = runs[-1][key] if len(values) == 1 else ', '.join(values)
        else:
            merged[key] = sum(r[key] for r in runs)
    return merged


def _run(ctx, plan, backend):
    # 1. Models: the shipped seed 0 where there is one; every other seed trained.
    models, training = {}, {}
    shipped = (lambda t, a: None) if plan.quick else ctx.shipped
    for task in plan.tasks:
        for arch in plan.archs:
            path = shipped(task, arch)
            if path is not None:
                models[(task, arch, 0)] = path
                training.setdefault(task, {}).setdefault(arch, {})['0'] = {'source': 'shipped'}
    jobs = plan.training_jobs(shipped, ctx.scratch / 'study_models')
    ctx.log(f'study: training {len(jobs)} models on {backend.name} ({backend.workers} '
            'worker(s))')
    phase = time.perf_counter()
    trained = backend.map(train_seed, jobs, _progress(ctx, 'trained', lambda r: (
        f'{r["task"]}_{r["arch"]} seed {r["seed"]} in {r["train_seconds"]:.0f} s')))
    training_wall = time.perf_counter() - phase
    for r in trained:
        models[(r['task'], r['arch'], r['seed'])] = r['model']
        training.setdefault(r['task'], {}).setdefault(r['arch'], {})[str(r['seed'])] = {
            k: r[k] for k in ('source', 'n_params', 'train_seconds', 'train_cpu_seconds')}

    # 2. Every model and the expert in every condition (extra seeds: the seed conditions).
    info = {task: {'models': describe_models(ctx, {**{a: models[(task, a, 0)]
                                                       for a in plan.archs}, 'expert': None}),
                   'conditions': [asdict(c) for c in conditions(task)],
                   'training': training.get(task, {}), 'cells': {}, 'seeds': {}}
            for task in plan.tasks}
    jobs = plan.evaluation_jobs(models)
    ctx.log(f'study: {len(jobs)} cells on {backend.name} ({backend.workers} worker(s))')
    phase = time.perf_counter()
    cells = backend.map(evaluate_cell, jobs, _progress(ctx, 'cells', lambda r: (
        f'{r["task"]} {r["controller"]} seed {r["seed"]} {r["condition"]}: '
        f'{r["successes"]}/{r["episodes"]}')))
    evaluation_wall = time.perf_counter() - phase
    for cell in cells:
        data = info[cell['task']]
        name, seed = cell['controller'], cell['seed']
        if seed in (0, None):
            data['cells'].setdefault(cell['condition'], {})[name] = cell
        if seed is not None:
            data['seeds'].setdefault(name, {}).setdefault(str(seed), {})[cell['condition']] = \
                _seed_cell(cell, plan.seed_episodes)
    return {'episodes': plan.episodes, 'seed_episodes': plan.seed_episodes,
            'duration_override_s': plan.duration, 'seed': STUDY_SEED,
            'archs': list(plan.archs), 'backend': backend.name, 'workers': backend.workers,
            'training_wall_seconds': training_wall, 'evaluation_wall_seconds': evaluation_wall,
            'training_cpu_seconds': sum(r['cpu_seconds'] for r in trained),
            'evaluation_cpu_seconds': sum(c['cpu_seconds'] for c in cells),
            'models_trained': len(trained), 'cells_run': len(cells), 'tasks': info}


def _seed_cell(cell, episodes):
    """A seed's figures on the first `episodes` episodes (seed 0 ran more), which every seed
    of every arch shares."""
    success = cell['success'][:episodes]
    return {'episodes': len(success), 'success': success,
            'success_rate': sum(success) / len(success) if success else float('nan'),
            'mean_return': sum(cell['ret'][:episodes]) / max(len(success), 1),
            'mean_tracking_error': sum(cell['tracking_error'][:episodes]) / max(len(success), 1)}


def describe_models(ctx, models):
    """Parameter count, state size and step time of each seed-0 model (measured here, one
    after the other, before any closed-loop run starts)."""
    from liquid_control.runtime import load_controller
    from liquid_control.runtime.step_timing import measure_step_time

    out = {}
    for name, path in models.items():
        if path is None:
            out[name] = {'source': 'expert'}
            continue
        session = load_controller(path)
        timing = measure_step_time(session, steps=300 if ctx.quick else 3000)
        out[name] = {'path': str(path), 'n_params': session.metadata.n_params,
                     'n_state': session.metadata.n_state, 'seed': session.metadata.seed,
                     'step_us_median': timing['median_us'], 'step_us_p99': timing['p99_us']}
    return out


def _progress(ctx, what, describe):
    def done(count, total, result):
        if count == total or count % 10 == 0 or what == 'trained':
            ctx.log(f'  study: {count}/{total} {what} (last: {describe(result)})')
    return done
