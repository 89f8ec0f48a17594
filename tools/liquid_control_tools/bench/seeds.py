"""Training-seed noise: the shipped recipe (training.train.train, unchanged) run again with
other seeds, and each resulting model evaluated on the study's episodes under the
conditions where the architectures are compared most often (nominal, noise, jitter, rate
change, delay).

A difference between two architectures that is smaller than the spread between seeds of
one architecture says nothing about the architectures. Models are written to this run's
scratch folder, never to models/; the shipped model is seed 0 (its cells come from the study
when that ran with the same episodes, otherwise they are evaluated here).
"""
from __future__ import annotations

import contextlib
import io
import os
import time
from dataclasses import asdict

from liquid_control.tasks import get_task

from .study import EPISODES, STUDY_SEED, conditions, run_cell

SEED_TASKS = ('cartpole',)      # diff-drive episodes cost ~4x: opt in with --seed-tasks
SEED_ARCHS = ('cfc', 'gru')
EXTRA_SEEDS = (1, 2)
SEED_CONDITIONS = ('nominal', 'noise_10', 'jitter_50', 'rate_25', 'rate_100', 'delay_2')
TRAIN_EVAL_EPISODES = 10    # the card's own evaluation; the figures here come from the study's


def train_and_evaluate(job):
    """job = (task, arch, seed, out_dir, quick, episodes, duration) -> result dict."""
    task, arch, seed, out_dir, quick, episodes, duration = job
    from liquid_control.training.train import train

    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):     # progress bars
        report = train(task, arch, seed=seed, out_dir=out_dir, quick=quick,
                       log=lambda *a: None, threads=1,
                       **({} if quick else {'eval_episodes': TRAIN_EVAL_EPISODES}))
    model = os.path.join(out_dir, f'{task}_{arch}.onnx')
    wall = time.perf_counter() - started
    by_id = {c.id: c for c in conditions(task)}
    cells = {cid: run_cell((task, arch, model, asdict(by_id[cid]), episodes, duration))
             for cid in SEED_CONDITIONS}
    return {'task': task, 'arch': arch, 'seed': seed, 'train_seconds': report['train_seconds'],
            'train_cpu_seconds': report.get('train_cpu_seconds'), 'wall_seconds': wall,
            'n_params': report['n_params'], 'cells': cells}


def _study_cells(ctx, episodes):
    """The shipped models' cells from this results folder's study, if they are comparable."""
    from .common import load_result
    study = load_result(ctx, 'study')
    if not study or study.get('episodes') != episodes or study.get('seed') != STUDY_SEED \
            or study.get('quick') != ctx.quick:
        return {}
    return study['tasks']


def run(ctx):
    tasks = tuple(ctx.seed_tasks or SEED_TASKS)
    archs = tuple(ctx.seed_archs or SEED_ARCHS)
    seeds = tuple(ctx.extra_seeds or EXTRA_SEEDS)
    episodes = 2 if ctx.quick else EPISODES
    duration = 0.5 if ctx.quick else None
    if ctx.quick:
        archs, seeds, tasks = archs[:1], seeds[:1], tasks[:1]
    jobs = []
    for task in tasks:
        for arch in archs:
            for seed in seeds:
                out_dir = str(ctx.scratch / 'seeds' / f'seed{seed}')
                jobs.append((task, arch, seed, out_dir, ctx.quick, episodes, duration))
    # Longer episodes and slower cells first, so the processes finish together.
    jobs.sort(key=lambda j: (get_task(j[0]).episode_seconds, j[1] == 'ltc'), reverse=True)
    ctx.log(f'seeds: training {len(jobs)} models (seeds {", ".join(map(str, seeds))} of '
            f'{", ".join(archs)}) and evaluating each on {len(SEED_CONDITIONS)} conditions '
            f'x {episodes} episodes, {ctx.workers} process(es)')
    started = time.perf_counter()
    saved = os.environ.get('TQDM_DISABLE')
    os.environ['TQDM_DISABLE'] = '1'               # inherited by the worker processes
    try:
        results = _pool_map(train_and_evaluate, jobs, ctx)
    finally:
        if saved is None:
            os.environ.pop('TQDM_DISABLE', None)
        else:
            os.environ['TQDM_DISABLE'] = saved
    shipped = _study_cells(ctx, episodes)
    out = {}
    for task in tasks:
        data = out.setdefault(task, {'conditions': list(SEED_CONDITIONS), 'archs': {},
                                     'train_seconds': {}})
        for arch in archs:
            per_seed = data['archs'].setdefault(arch, {})
            model = ctx.shipped(task, arch)
            if model is not None:
                cells = {}
                for cid in SEED_CONDITIONS:
                    cell = shipped.get(task, {}).get('cells', {}).get(cid, {}).get(arch)
                    if cell is None:
                        by_id = {c.id: c for c in conditions(task)}
                        cell = run_cell((task, arch, str(model), asdict(by_id[cid]), episodes,
                                         duration))
                    cells[cid] = cell
                per_seed['0'] = cells
    for r in results:
        data = out[r['task']]
        data['archs'][r['arch']][str(r['seed'])] = r['cells']
        data['train_seconds'].setdefault(r['arch'], {})[str(r['seed'])] = r['train_seconds']
        data.setdefault('train_cpu_seconds', {}).setdefault(r['arch'], {})[str(r['seed'])] = \
            r['train_cpu_seconds']
    return {'episodes': episodes, 'seed': STUDY_SEED, 'extra_seeds': list(seeds),
            'archs': list(archs), 'wall_seconds': time.perf_counter() - started, 'tasks': out}


def _pool_map(fn, jobs, ctx):
    results = []
    if ctx.workers <= 1 or len(jobs) <= 1:
        import torch
        # train() sets torch's global determinism and thread count: put them back after.
        deterministic, threads = torch.are_deterministic_algorithms_enabled(), \
            torch.get_num_threads()
        try:
            for job in jobs:
                results.append(fn(job))
                ctx.log(f'  seeds: {job[0]}_{job[1]} seed {job[2]} done')
        finally:
            torch.use_deterministic_algorithms(deterministic)
            torch.set_num_threads(threads)
        return results
    import multiprocessing
    with multiprocessing.get_context('spawn').Pool(min(ctx.workers, len(jobs))) as pool:
        for r in pool.imap_unordered(fn, jobs):
            results.append(r)
            ctx.log(f'  seeds: {r["task"]}_{r["arch"]} seed {r["seed"]} trained in '
                    f'{r["train_seconds"]:.0f} s, evaluated')
    return results
