"""ROS-free MuJoCo tasks, their expert controllers and an episode runner (needs mujoco).

    env = make_env('cartpole', physics={'pole_mass_scale': 1.3})
    result = run_episode(env, make_expert('cartpole'), np.random.default_rng(0))
"""
from .cartpole import CartPoleEnv
from .diffdrive import DiffDriveEnv
from .episode import EpisodeResult, Evaluation, evaluate, run_episode, wilson_interval
from .experts import CartPoleExpert, DiffDriveExpert

ENVS = {'cartpole': CartPoleEnv, 'diffdrive': DiffDriveEnv}
EXPERTS = {'cartpole': CartPoleExpert, 'diffdrive': DiffDriveExpert}


def _lookup(table, task):
    try:
        return table[task]
    except KeyError:
        raise ValueError(f'unknown task {task!r}; known tasks: {", ".join(table)}') from None


def make_env(task, physics=None):
    """A fresh environment of the named task, with optional physics changes."""
    return _lookup(ENVS, task)(physics)


def make_expert(task):
    """The named task's expert policy (nominal model)."""
    return _lookup(EXPERTS, task)()


__all__ = [
    'CartPoleEnv', 'CartPoleExpert', 'DiffDriveEnv', 'DiffDriveExpert', 'ENVS', 'EXPERTS',
    'EpisodeResult', 'Evaluation', 'evaluate', 'make_env', 'make_expert', 'run_episode',
    'wilson_interval',
]
