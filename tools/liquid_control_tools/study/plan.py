"""What the study runs: tasks, architectures, training seeds, and the jobs they make.

Seed 0 of an arch is its shipped model (models/<task>_<arch>.onnx) when there is one, else
it is trained like the other seeds; seeds 1.. are the shipped recipe run again with that
seed. Seed 0 meets every condition on EPISODES episodes (the paired tests compare single
models); every seed meets SEED_CONDITIONS on the first SEED_EPISODES of those episodes (the
across-seed figures: an architecture, not one training run).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from liquid_control.runtime.contract import ARCHS
from liquid_control.tasks import get_task

from .conditions import conditions

EPISODES = 100
SEED_EPISODES = 50
# Where memory can matter (a partially observed task), the three that answer the main
# question (liquid, recurrent, no memory) get 5 seeds; the others 3.
MAIN_ARCHS = ('cfc', 'gru', 'mlp')
MAIN_SEEDS_PARTIAL = 5
SEEDS = 3
# The conditions each claim of the study is settled on (physics changes: all of the task's).
SEED_CONDITIONS = ('nominal', 'noise_10', 'jitter_50', 'event', 'dropout_10', 'rate_25',
                   'delay_2')


def seeds_for(task, arch):
    partial = get_task(task).partially_observed
    return tuple(range(MAIN_SEEDS_PARTIAL if partial and arch in MAIN_ARCHS else SEEDS))


def seed_conditions(task):
    """The condition ids every seed meets: SEED_CONDITIONS and the physics changes."""
    return [c.id for c in conditions(task) if c.id in SEED_CONDITIONS or c.physics]


@dataclass
class Plan:
    tasks: tuple
    archs: tuple = ARCHS
    seeds: dict = field(default_factory=dict)   # (task, arch) -> seeds; default seeds_for
    episodes: int = EPISODES
    seed_episodes: int = SEED_EPISODES
    duration: float | None = None               # None: each task's own episode length
    quick: bool = False

    def seeds_of(self, task, arch):
        return self.seeds.get((task, arch)) or seeds_for(task, arch)

    @classmethod
    def quick_plan(cls, tasks, archs=ARCHS, seeds=(0, 1)):
        """Seconds: every model trained for a few gradient steps, 2 episodes of 0.5 s."""
        return cls(tasks=tuple(tasks), archs=tuple(archs),
                   seeds={(t, a): tuple(seeds) for t in tasks for a in archs},
                   episodes=2, seed_episodes=2, duration=0.5, quick=True)

    def training_jobs(self, shipped, scratch):
        """(task, arch, seed, out_dir, quick) of every model to train; `shipped(task, arch)`
        gives the shipped seed-0 model or None."""
        jobs = []
        for task in self.tasks:
            for arch in self.archs:
                for seed in self.seeds_of(task, arch):
                    if seed == 0 and shipped(task, arch) is not None:
                        continue
                    jobs.append((task, arch, seed, str(scratch / f'seed{seed}'), self.quick))
        # The longest first, so the workers finish together.
        return sorted(jobs, key=_training_cost, reverse=True)

    def evaluation_jobs(self, models):
        """Cells: `models[(task, arch, seed)]` = model path; the expert is evaluated once."""
        jobs = []
        for task in self.tasks:
            conds = conditions(task)
            every_seed = set(seed_conditions(task))
            for cond in conds:
                jobs.append((task, 'expert', None, None, asdict(cond), self.episodes,
                             self.duration))
                for arch in self.archs:
                    for seed in self.seeds_of(task, arch):
                        if seed != 0 and cond.id not in every_seed:
                            continue
                        episodes = self.episodes if seed == 0 else self.seed_episodes
                        jobs.append((task, arch, seed, str(models[(task, arch, seed)]),
                                     asdict(cond), episodes, self.duration))
        return sorted(jobs, key=_cell_cost, reverse=True)


# Rough relative costs (measured training seconds per arch on the cart-pole; episode length
# times steps per second), only to order the jobs.
_TRAIN_SECONDS = {'ltc': 314, 'ncp': 204, 'cfc': 93, 'gru': 74, 'lstm': 90, 'mlp': 40,
                  'mlp_stack': 50}


def _training_cost(job):
    task, arch = job[0], job[1]
    return get_task(task).episode_seconds * _TRAIN_SECONDS.get(arch, 100)


def _cell_cost(job):
    task, name, _, _, cond, episodes, _ = job
    return get_task(task).episode_seconds * cond['rate_hz'] * episodes \
        * (1.0 if name == 'expert' else 1.5)
