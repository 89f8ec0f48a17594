"""Train one controller, top to bottom: expert demonstrations -> behaviour cloning -> DAgger
-> ONNX export -> closed-loop evaluation through the runtime -> model card.

    from liquid_control.training.train import train
    train(task, 'cfc', seed=0, out_dir='models')   # an installed task (name or Task) with an expert

Reproducible by seed: numpy and torch are seeded from it, torch runs deterministic kernels
(on one CPU thread by default), and every random draw (episode starts, dt jitter, noise, batch
order, DAgger mixing) comes from one numpy Generator.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from liquid_control.nets import Policy, count_params
from liquid_control.tasks import get_task

from .bc import Trainer
from .card import write_card
from .evaluation import evaluate_model_and_expert
from .export import export_policy
from .rollout import collect


@dataclass
class Config:
    hidden: int | None = None       # cell width; None = nets.DEFAULT_UNITS[arch]
    expert_episodes: int = 64       # behaviour-cloning demonstrations
    bc_batches: int = 40            # gradient batches on the demonstrations before DAgger
    dagger_rounds: int = 6
    dagger_episodes: int = 32       # learner-driven episodes added per round
    dagger_batches: int = 32        # gradient batches on all data after each round
    beta0: float = 0.5              # expert share of the mixture in the first DAgger round
    lanes: int = 32                 # episodes simulated in lockstep
    batch: int = 32                 # episodes per gradient batch
    chunk: int = 50                 # TBPTT length in ticks
    lr: float = 3e-3
    lr_final: float = 3e-4
    dt_jitter: float = 0.5          # control period in nominal * [1 - j, 1 + j]
    obs_noise: float = 0.02         # observation noise std, in units of env.obs_scale
    eval_episodes: int = 100
    episode_seconds: float | None = None  # None = each episode's own (the env's time_limit)
    threads: int = 1                # more only helps on idle cores (LTC: far slower on busy)


# Per-arch changes to the defaults, so each model trains within 10 minutes of CPU. A
# training tick of the LTC's ODE solver costs many times a GRU's (its synapse tensors are
# [batch, units, units] per solver step): it takes smaller, shorter batches at a higher rate,
# which learns more per second than a few big ones. The NCP is bound by per-op overhead,
# so a wider batch is nearly free. A task adds its own changes (Task.training).
ARCH_CONFIG = {
    'ltc': dict(batch=16, chunk=25, lr=1e-2, lr_final=1e-3, bc_batches=40, dagger_rounds=4,
                dagger_episodes=16, dagger_batches=15, beta0=0.8),
    'ncp': dict(batch=64),
}


def config_for(task, arch, quick=False, **overrides):
    """Config defaults, then the task's changes ('*'), the arch's, the task's for the arch."""
    task = get_task(task)
    cfg = dataclasses.replace(Config(), **task.training.get('*', {}))
    cfg = dataclasses.replace(cfg, **ARCH_CONFIG.get(arch, {}))
    cfg = dataclasses.replace(cfg, **task.training.get(arch, {}))
    if quick:  # seconds: checks the pipeline end to end, learns nothing useful
        cfg = dataclasses.replace(cfg, expert_episodes=2, bc_batches=1, dagger_rounds=1,
                                  dagger_episodes=2, dagger_batches=1, lanes=2, batch=2,
                                  chunk=10, eval_episodes=2, episode_seconds=0.5)
    return dataclasses.replace(cfg, **overrides)


def load_policy(checkpoint):
    """(Policy, seed) from a checkpoint that train() wrote to its run_dir (for re-export)."""
    saved = torch.load(checkpoint, map_location='cpu')
    policy = Policy(get_task(saved['task']), saved['arch'], hidden=saved['hidden'],
                    ode_unfolds=saved.get('ode_unfolds'))
    policy.load_state_dict(saved['state_dict'])
    return policy.eval(), saved['seed']


def seed_everything(seed, threads):
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(threads)
    return np.random.default_rng(seed)


def simulate(task, policy, rng, n, seconds, beta, cfg, obs_noise, desc):
    """n episodes in groups of cfg.lanes lockstep lanes."""
    episodes = []
    with tqdm(total=n, desc=desc, unit='ep', leave=False) as bar:
        for first in range(0, n, cfg.lanes):
            lanes = min(cfg.lanes, n - first)
            envs = [task.make_env() for _ in range(lanes)]
            experts = [task.make_expert() for _ in range(lanes)]
            episodes += collect(envs, experts, policy, rng, seconds, beta=beta,
                                dt_jitter=cfg.dt_jitter, obs_noise=obs_noise)
            bar.update(lanes)
    return episodes


def train(task, arch, seed=0, out_dir='models', quick=False, run_dir=None, log=print,
          **overrides):
    """Train, export `<out_dir>/<task>_<arch>.onnx`, evaluate it, write its model card.

    `task` is an installed task's name or a Task (it needs an expert). Returns the report the
    card is written from. `run_dir` (optional) receives the torch checkpoint and the report
    as JSON; `overrides` set Config fields.
    """
    task = get_task(task)
    name = f'{task.name}_{arch}'
    cfg = config_for(task, arch, quick, **overrides)
    rng = seed_everything(seed, cfg.threads)
    seconds = cfg.episode_seconds
    started, cpu_started = time.perf_counter(), time.process_time()

    # 1. Expert demonstrations, with the same irregular control period the learner will see.
    data = simulate(task, None, rng, cfg.expert_episodes, seconds, 1.0, cfg, None, 'expert')
    all_obs = np.concatenate([e.obs for e in data])

    # 2. The policy; observation statistics come from the demonstrations.
    policy = Policy(task, arch, hidden=cfg.hidden)
    policy.fit_normaliser(all_obs)
    obs_noise = (cfg.obs_noise * np.asarray(task.obs_scale)).astype(np.float32)
    trainer = Trainer(policy, lr=cfg.lr, chunk=cfg.chunk, batch=cfg.batch, obs_noise=obs_noise)
    log(f'{name}: {count_params(policy)} parameters, '
        f'{len(data)} demonstrations ({len(all_obs)} ticks)')

    # 3. Behaviour cloning.
    loss = trainer.fit(data, cfg.bc_batches, rng, desc=f'{name} BC')
    log(f'  BC: loss {loss:.4f} after {trainer.steps} steps')

    # 4. DAgger: the learner (mixed with the expert, less each round) drives; the expert
    # labels the states the learner reaches; train on everything gathered so far.
    for rnd in range(cfg.dagger_rounds):
        beta = cfg.beta0 * 0.5 ** rnd if rnd < cfg.dagger_rounds - 1 else 0.0
        new = simulate(task, policy, rng, cfg.dagger_episodes, seconds, beta, cfg, obs_noise,
                       f'DAgger {rnd + 1}')
        data += new
        fraction = (rnd + 1) / cfg.dagger_rounds
        trainer.set_lr(cfg.lr * (cfg.lr_final / cfg.lr) ** fraction)
        loss = trainer.fit(data, cfg.dagger_batches, rng, desc=f'DAgger {rnd + 1} train')
        learner_success = np.mean([bool(e.metrics.get('success')) for e in new])
        log(f'  DAgger {rnd + 1}/{cfg.dagger_rounds}: beta {beta:.2f}, success of the '
            f'mixture {learner_success:.0%}, {len(data)} episodes, loss {loss:.4f}')
    train_seconds = time.perf_counter() - started
    train_cpu_seconds = time.process_time() - cpu_started  # what the shared machine gave us

    # 5. Export under the model contract, evaluate the file through the runtime, document it.
    report = {
        'task': task.name, 'arch': arch, 'seed': seed, 'cell': type(policy.cell).__name__,
        'n_params': count_params(policy), 'expert_episodes': cfg.expert_episodes,
        'dagger_rounds': cfg.dagger_rounds, 'episodes': len(data),
        'ticks': int(sum(len(e) for e in data)), 'grad_steps': trainer.steps,
        'chunk': cfg.chunk, 'dt_jitter': cfg.dt_jitter, 'obs_noise': cfg.obs_noise,
        'final_loss': loss, 'train_seconds': train_seconds,
        'train_cpu_seconds': train_cpu_seconds, 'threads': cfg.threads,
        'episode_seconds': seconds, 'hidden': cfg.hidden,
    }
    if hasattr(policy.cell, 'ode_unfolds'):
        report['ode_unfolds'] = policy.cell.ode_unfolds   # LTC solver steps per tick
    publish(policy, task, report, out_dir, run_dir, cfg.eval_episodes, log)
    log(f'  {name}: success {report["eval"]["success_rate"]:.0%} '
        f'(expert {report["expert_eval"]["success_rate"]:.0%}), trained in '
        f'{train_seconds:.0f} s ({train_cpu_seconds:.0f} s CPU)')
    return report


def publish(policy, task, report, out_dir, run_dir=None, eval_episodes=100, log=print):
    """Export `<out_dir>/<task>_<arch>.onnx`, evaluate it and the expert on the same
    episodes, add the figures to `report`, write the model card (and the run files)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f'{report["task"]}_{report["arch"]}'
    session = export_policy(policy, out_dir / f'{name}.onnx', seed=report['seed'])
    log(f'  evaluating {name} and the expert on {eval_episodes} episodes')
    model_eval, expert_eval, step_us = evaluate_model_and_expert(
        task, out_dir / f'{name}.onnx', eval_episodes, report['episode_seconds'],
        expert_cache=run_dir)
    report.update(eval=model_eval, expert_eval=expert_eval,
                  step_us_median=float(np.median(step_us)),
                  step_us_p99=float(np.percentile(step_us, 99)))
    write_card(out_dir / f'{name}.md', session=session, report=report, task=task)
    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        torch.save({'state_dict': policy.state_dict(), 'arch': report['arch'],
                    'task': report['task'], 'hidden': report.get('hidden'),
                    'ode_unfolds': report.get('ode_unfolds'),
                    'seed': report['seed']}, run_dir / f'{name}.pt')
        (run_dir / f'{name}.json').write_text(json.dumps(report, indent=1, default=str))
    return report


def reexport(run_dir, name, out_dir='models', log=print):
    """Export and evaluate again a model saved by train() in run_dir (e.g. after a change
    to the export), keeping its training record."""
    run_dir = Path(run_dir)
    policy, _ = load_policy(run_dir / f'{name}.pt')
    report = json.loads((run_dir / f'{name}.json').read_text())
    report['note'] = ('exported again from the saved training checkpoint; training figures '
                      'are those of the original run')
    return publish(policy, get_task(report['task']), report, out_dir, run_dir, log=log)
