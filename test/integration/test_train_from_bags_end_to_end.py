"""From recorded runs to a working controller, with nothing but the bags.

For each built-in task: its expert drives sim_node over DDS (lockstep, sensor noise, on the
cart-pole a random load on the actuator, a new start state per run) and every run is recorded
into a rosbag2 MCAP bag, as `liquid-control demo --controller expert` records it. A CfC and
a GRU are trained from those bags only (`liquid-control train --from-bag`, with the task's
controller parameters file), then run closed loop: 100 simulated episodes through the
runtime, and one run under controller_node over DDS. docs/your_robot.md reports the same
pipeline's figures.

Minutes of wall time (recording, then four trainings): marked `long`.
"""
import os
import queue
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip('mujoco')
pytest.importorskip('rclpy')

from liquid_control.bringup.processes import TEST_DOMAINS
from liquid_control.bringup.session import SimSession
from liquid_control.cli.train import main as train_main
from liquid_control.recording.analysis import load_run, summarize_run
from liquid_control.runtime import load_controller
from liquid_control.sim.episode import evaluate
from liquid_control.tasks import get_task
from liquid_control.training.evaluation import EVAL_SEED, SessionController

pytestmark = pytest.mark.long

# Per task: recorded runs, each run's sim seconds (None: the task's episode), sensor noise
# (position std; velocity 5x, as `demo --noise`), actuator disturbance (`demo --push`),
# observations that are angles, training epochs.
RECORDINGS = {
    'cartpole': dict(runs=60, seconds=10.0, noise=0.03, push=0.1,
                     angles=['cart_to_pole.position'], epochs=150),
    'diffdrive': dict(runs=16, seconds=None, noise=0.003, push=0.0, angles=[], epochs=60),
}
EPISODES = 100
REQUIRED_SUCCESS = 0.90
PARALLEL_RUNS = 2          # recordings at a time, each on a DDS domain of its own


def record_run(folder, task, seed, seconds, noise, push, domain_id):
    session = SimSession(Path(folder) / f'run{seed}', task=task, controller='expert',
                         mode='lockstep', duration=seconds, seed=seed, domain_id=domain_id,
                         sim_params={'position_noise_std': noise,
                                     'velocity_noise_std': 5.0 * noise,
                                     'actuator_noise_std': push})
    try:
        session.start()
        assert session.run_to_end(), f'run {seed} did not finish'
    finally:
        codes = session.stop()
    assert codes == {'controller': 0, 'sim_node': 0}
    return session.bag_path


def record_expert_runs(folder, task, runs, seconds, noise, push):
    """The task's expert over DDS, one bag per run (seeds 1..runs); returns the bags."""
    seconds = seconds or get_task(task).episode_seconds
    # The session's domain and others of the test range (conftest), one per lane.
    base = TEST_DOMAINS.index(int(os.environ['ROS_DOMAIN_ID']))
    domains = [TEST_DOMAINS[(base + 25 * k) % len(TEST_DOMAINS)] for k in range(PARALLEL_RUNS)]
    lanes = queue.SimpleQueue()
    for domain in domains:
        lanes.put(domain)

    def one(seed):
        domain = lanes.get()
        try:
            return record_run(folder, task, seed, seconds, noise, push, domain)
        finally:
            lanes.put(domain)

    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        return list(pool.map(one, range(1, runs + 1)))


@pytest.fixture(scope='module', params=sorted(RECORDINGS))
def recorded(request, tmp_path_factory):
    task = request.param
    spec = RECORDINGS[task]
    folder = tmp_path_factory.mktemp(f'{task}_bags')
    return task, record_expert_runs(folder, task, spec['runs'], spec['seconds'],
                                    spec['noise'], spec['push'])


@pytest.mark.parametrize('arch', ['cfc', 'gru'])
def test_a_controller_trained_from_bags_only_does_the_task(recorded, arch, tmp_path):
    task_name, bags = recorded
    task = get_task(task_name)
    spec = RECORDINGS[task_name]
    out = tmp_path / 'models'
    argv = ['--from-bag', *map(str, bags), '--config', str(task.params_file), '--arch', arch,
            '--name', f'{task_name}_from_bags', '--out', str(out), '--runs', str(tmp_path),
            '--epochs', str(spec['epochs'])]
    for angle in spec['angles']:
        argv += ['--angle', angle]
    assert train_main(argv) == 0
    model = out / f'{task_name}_from_bags_{arch}.onnx'
    session = load_controller(model)
    assert tuple(session.metadata.obs_names) == task.obs_names

    # Closed loop in the simulator, through the runtime as the node steps it.
    result = evaluate(task.make_env, lambda: SessionController(session), EPISODES, EVAL_SEED,
                      nominal_dt=task.nominal_dt).summary
    print(f'{task_name} {arch} from {len(bags)} bags: {result["successes"]}/{EPISODES}')
    assert result['success_rate'] >= REQUIRED_SUCCESS, result

    # And under controller_node over DDS, with the task's own parameters file.
    run = SimSession(tmp_path / 'node_run', task=task_name, controller=arch, model=str(model),
                     mode='lockstep', duration=task.episode_seconds, seed=EVAL_SEED)
    try:
        run.start()
        assert run.run_to_end()
    finally:
        codes = run.stop()
    assert codes == {'controller': 0, 'sim_node': 0}
    summary = summarize_run(load_run(run.bag_path, task_name), run.bag_path)
    assert summary['commands']['non_finite'] == 0 and summary['commands']['out_of_limits'] == 0
    assert summary['episode']['success'], summary
