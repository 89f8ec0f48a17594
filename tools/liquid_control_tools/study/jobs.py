"""The study's two kinds of job, each a module-level function of one tuple (so any backend
can ship it to a process or a machine) returning a JSON-able dict, and each deterministic
by its seeds: where it runs does not change what it returns.
"""
from __future__ import annotations

import contextlib
import io
import time

import numpy as np

from liquid_control.tasks import get_task

from .conditions import STUDY_SEED, Condition

TRAIN_EVAL_EPISODES = 10    # the card's own evaluation; the study's figures are its cells'


def train_seed(job):
    """job = (task, arch, seed, out_dir, quick) -> {'model': path, training figures}.

    The shipped training recipe (training.train.train) with another seed, one thread."""
    task, arch, seed, out_dir, quick = job
    import torch

    from liquid_control.training.train import train

    # train() sets torch's global determinism and threads: put them back for the caller
    # when the job runs in its process.
    deterministic, threads = torch.are_deterministic_algorithms_enabled(), \
        torch.get_num_threads()
    cpu_started = time.process_time()
    try:
        with contextlib.redirect_stderr(io.StringIO()):     # progress bars
            report = train(task, arch, seed=seed, out_dir=out_dir, quick=quick,
                           log=lambda *a: None, threads=1,
                           **({} if quick else {'eval_episodes': TRAIN_EVAL_EPISODES}))
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)
    return {'task': task, 'arch': arch, 'seed': seed, 'source': 'trained',
            'model': f'{out_dir}/{task}_{arch}.onnx', 'n_params': report['n_params'],
            'train_seconds': report['train_seconds'],
            'train_cpu_seconds': report['train_cpu_seconds'],
            'cpu_seconds': time.process_time() - cpu_started}


def evaluate_cell(job):
    """job = (task, controller name, seed, model path or None for the expert, Condition as
    dict, episodes, duration or None) -> the cell's result dict."""
    task_name, name, seed, model, cond, episodes, duration = job
    from liquid_control.sim.episode import evaluate

    task = get_task(task_name)
    cond = Condition(**cond)
    if model is None:
        factory = task.make_expert
        controller = None
    else:
        from liquid_control.runtime import load_controller
        from liquid_control.training.evaluation import SessionController
        controller = SessionController(load_controller(model))
        factory = lambda: controller  # noqa: E731
    kwargs = cond.episode_kwargs()
    if duration is not None:
        kwargs['duration'] = duration
    started, cpu_started = time.perf_counter(), time.process_time()
    ev = evaluate(lambda: task.make_env(cond.physics or None), factory, episodes, STUDY_SEED,
                  **kwargs)
    s = ev.summary
    out = {
        'task': task.name, 'controller': name, 'seed': seed, 'condition': cond.id,
        'episodes': s['episodes'], 'successes': s['successes'],
        'success_rate': s['success_rate'], 'success_ci95': list(s['success_ci95']),
        'mean_return': s['mean_return'], 'mean_tracking_error': s['mean_tracking_error'],
        # The task's own figures (Task.figures), e.g. how the diff-drive stops.
        'figures': {metric: s['metric_means'].get(metric, float('nan'))
                    for metric, _, _ in task.figures},
        'success': [bool(r.success) for r in ev.results],
        'ret': [float(r.ret) for r in ev.results],
        'tracking_error': [float(r.tracking_error) for r in ev.results],
        'seconds': time.perf_counter() - started,
        'cpu_seconds': time.process_time() - cpu_started,
    }
    if controller is not None and controller.step_seconds:
        out['step_us_median'] = float(np.median(controller.step_seconds) * 1e6)
    return out
