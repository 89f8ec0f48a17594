"""The liquid-vs-GRU study: every shipped controller of each task in closed loop in the
ROS-free MuJoCo simulator, through the ONNX runtime (ControllerSession, as the node steps
it), beside the expert, under the same disturbances and on the same episodes.

Tasks: every installed task with an expert and shipped models (or --tasks). Cells = task x
controller x condition; 100 episodes each (episode i of every cell starts
from episode_rng(STUDY_SEED, i): the same start states, and for equal conditions the same
noise, for every controller). Conditions: nominal; observation noise 5 and 10% of each
signal's spread; dt jitter +-25 and +-50%; control rate changed at deploy time (trained at
50 Hz, run at 25 and 100 Hz); actuator delay of 1 and 2 ticks; physics changed as the task's
PhysicsChange.study values say (cart-pole: pole mass and length x0.7 and x1.3; diff-drive:
wheel radius x0.9 and x1.1, the drive still configured with the nominal radius). The expert
uses the nominal physics model throughout.

Per cell: success rate with a 95% Wilson interval, mean return and mean tracking error, and
the per-episode outcomes, which `report` pairs episode by episode (McNemar's exact test) to
say which differences between controllers are more than chance.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from liquid_control.tasks import get_task

from .common import ARCHS

STUDY_SEED = 20_240_607     # not the training evaluation's seed: held-out start states
EPISODES = 100
NOMINAL_RATE_HZ = 50.0


@dataclass(frozen=True)
class Condition:
    id: str
    group: str              # the sweep it belongs to (nominal is level 0 of every sweep)
    label: str
    level: float            # x value within its group
    obs_noise: float = 0.0
    dt_jitter: float = 0.0
    rate_hz: float = NOMINAL_RATE_HZ
    action_delay: int = 0
    physics: dict = field(default_factory=dict)

    def episode_kwargs(self):
        return dict(nominal_dt=1.0 / self.rate_hz, obs_noise=self.obs_noise,
                    dt_jitter=self.dt_jitter, action_delay=self.action_delay)


def conditions(task):
    out = [Condition('nominal', 'nominal', 'nominal', 0.0)]
    out += [Condition(f'noise_{p}', 'observation noise', f'noise {p}%', p, obs_noise=p / 100)
            for p in (5, 10)]
    out += [Condition(f'jitter_{p}', 'dt jitter', f'jitter ±{p}%', p, dt_jitter=p / 100)
            for p in (25, 50)]
    out += [Condition(f'rate_{hz}', 'control rate', f'{hz} Hz', hz, rate_hz=float(hz))
            for hz in (25, 100)]
    out += [Condition(f'delay_{k}', 'actuator delay', f'delay {k} tick{"s" * (k > 1)}', k,
                      action_delay=k) for k in (1, 2)]
    for key, change in get_task(task).physics.items():
        for scale in change.study:
            out.append(Condition(f'{key.removesuffix("_scale")}_{scale:g}', change.label,
                                 f'{change.label} ×{scale:g}', scale, physics={key: scale}))
    return out


def group_levels(task, group):
    """(level, condition id) of a sweep including its nominal point, sorted by level."""
    nominal_level = {'observation noise': 0.0, 'dt jitter': 0.0,
                     'control rate': NOMINAL_RATE_HZ, 'actuator delay': 0.0}
    points = [(c.level, c.id) for c in conditions(task) if c.group == group]
    points.append((nominal_level.get(group, 1.0), 'nominal'))
    return sorted(points)


# -- one cell (runs in a worker process) -----------------------------------------------------------
def run_cell(job):
    """job = (task, controller name, model path or None for the expert, Condition as dict,
    episodes, duration or None) -> the cell's result dict."""
    task_name, name, model, cond, episodes, duration = job
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
        'task': task.name, 'controller': name, 'condition': cond.id,
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


# -- the whole study -------------------------------------------------------------------------------
def controllers(ctx, task, archs=ARCHS):
    """{name: (model path or None, source)} of the study: the shipped models (untrained
    exports stand in for missing ones only in a quick run) and the expert."""
    out = {}
    for arch in archs:
        path = ctx.shipped(task, arch)
        if path is not None:
            out[arch] = (path, 'shipped')
        elif ctx.quick:
            out[arch] = (ctx.untrained(task, arch), 'untrained export')
    out['expert'] = (None, 'expert')
    return out


def describe_models(ctx, models):
    """Parameter count, state size and step time of each model (measured here, serially,
    before any closed-loop run starts)."""
    from liquid_control.runtime import load_controller
    from liquid_control.runtime.step_timing import measure_step_time

    out = {}
    for name, (path, source) in models.items():
        if path is None:
            out[name] = {'source': source}
            continue
        session = load_controller(path)
        timing = measure_step_time(session, steps=300 if ctx.quick else 3000)
        out[name] = {'source': source, 'path': str(path), 'n_params': session.metadata.n_params,
                     'n_state': session.metadata.n_state, 'seed': session.metadata.seed,
                     'step_us_median': timing['median_us'], 'step_us_p99': timing['p99_us']}
    return out


def run_jobs(jobs, workers, log):
    """Run cells on `workers` processes (spawned: no state inherited from this one)."""
    results = []
    if workers <= 1:
        for i, job in enumerate(jobs):
            results.append(run_cell(job))
            _progress(log, i + 1, len(jobs), results[-1])
        return results
    import multiprocessing
    with multiprocessing.get_context('spawn').Pool(workers) as pool:
        for i, res in enumerate(pool.imap_unordered(run_cell, jobs)):
            results.append(res)
            _progress(log, i + 1, len(jobs), res)
    return results


def _progress(log, done, total, res):
    if done == total or done % 10 == 0:
        log(f'  study: {done}/{total} cells (last: {res["task"]} {res["controller"]} '
            f'{res["condition"]}: {res["successes"]}/{res["episodes"]}, '
            f'{res["seconds"]:.0f} s)')


def _cost(job):
    """Rough relative cost for scheduling the longest cells first."""
    task, name, _, cond, _, _ = job
    return get_task(task).episode_seconds * cond['rate_hz'] / NOMINAL_RATE_HZ \
        * (1.0 if name == 'expert' else 1.5)


def run(ctx, archs=ARCHS, tasks=None):
    tasks = tasks or ctx.study_tasks()
    episodes = 2 if ctx.quick else EPISODES
    duration = 0.5 if ctx.quick else None
    plan, info = [], {}
    for task in tasks:
        models = controllers(ctx, task, archs)
        info[task] = {'models': describe_models(ctx, models),
                      'conditions': [asdict(c) for c in conditions(task)]}
        for cond in conditions(task):
            for name, (path, _) in models.items():
                plan.append((task, name, None if path is None else str(path), asdict(cond),
                             episodes, duration))
    plan.sort(key=_cost, reverse=True)
    workers = 1 if ctx.quick else ctx.workers   # a quick run's cells take less than a spawn
    ctx.log(f'study: {len(plan)} cells of {episodes} episodes on {workers} process(es)')
    started = time.perf_counter()
    cells = run_jobs(plan, workers, ctx.log)
    for cell in cells:
        task = info[cell['task']]
        task.setdefault('cells', {}).setdefault(cell['condition'], {})[cell['controller']] = cell
    return {'episodes': episodes, 'duration_override_s': duration, 'seed': STUDY_SEED,
            'workers': workers, 'wall_seconds': time.perf_counter() - started,
            'tasks': info}


# -- statistics used by the report ---------------------------------------------------------------
def mcnemar_p(a, b):
    """Two-sided exact McNemar p-value for paired successes a, b (sequences of bools)."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)


def mean_ci(values, z=1.959964):
    """(mean, half-width of a normal-approximation 95% interval)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return float(v.mean()) if v.size else float('nan'), float('nan')
    return float(v.mean()), float(z * v.std(ddof=1) / math.sqrt(v.size))
