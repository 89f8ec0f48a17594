"""What training needs from the simulator for each task: environments, experts, horizon."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class SimTask:
    spec: object                  # tasks.spec.TaskSpec
    make_env: Callable            # () -> env (reset/observe/apply/advance/done/metrics)
    make_expert: Callable         # () -> expert (reset/act, optionally bind(env))
    episode_seconds: float | None  # horizon; None = each episode's env.time_limit


def sim_task(name):
    """The MuJoCo-backed task `name` (imports the simulator only when asked)."""
    if name == 'cartpole':
        from liquid_control.sim.cartpole import CartPoleEnv
        from liquid_control.sim.experts import CartPoleExpert
        return SimTask(CartPoleEnv.spec, CartPoleEnv, CartPoleExpert, None)
    if name == 'diffdrive':
        from liquid_control.sim.diffdrive import DiffDriveEnv
        from liquid_control.sim.experts import DiffDriveExpert
        return SimTask(DiffDriveEnv.spec, DiffDriveEnv, DiffDriveExpert, None)
    raise ValueError(f'unknown task {name!r}; known: cartpole, diffdrive')
