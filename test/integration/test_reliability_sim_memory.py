"""Memory of a long simulated episode, found by the long run: the simulator's resident memory
grew steadily between episode resets at 500 Hz (docs/reliability.md, long run).

The cause: CartPoleEnv keeps one record per tick for the whole episode (to judge its final
2 s) and converts all of it to an array for every metrics() call, i.e. once a second in
sim_node's diagnostics: memory linear and CPU quadratic in the episode's length. sim_node
runs one episode until reset, so a demo or a robot-in-the-loop session left running grows
without bound. Diff-drive keeps running sums and is bounded.

Fixed: the cart-pole now keeps only the records of its final window and a running maximum.
"""
import tracemalloc

import numpy as np

from liquid_control.tasks import get_task

RATE_HZ = 500.0


def memory_growth(task, seconds_before, seconds_after):
    """Traced memory growth (bytes) over `seconds_after` of one episode that already ran
    `seconds_before`, stepping at RATE_HZ with the safe action and calling metrics() once a
    simulated second, as sim_node's diagnostics do."""
    env = get_task(task).make_env()
    env.reset(np.random.default_rng(0))
    dt = 1.0 / RATE_HZ

    def run(seconds):
        for k in range(int(seconds * RATE_HZ)):
            env.apply(env.safe_action())
            env.advance(dt)
            if k % int(RATE_HZ) == 0:
                env.metrics()
    run(seconds_before)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        run(seconds_after)
        return tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()


def test_diffdrive_episode_memory_is_bounded():
    assert memory_growth('diffdrive', 1.0, 5.0) < 256 * 1024


def test_cartpole_episode_memory_is_bounded():
    assert memory_growth('cartpole', 1.0, 5.0) < 256 * 1024
