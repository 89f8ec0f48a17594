"""From recorded runs to a working controller, with nothing but the bags.

For each built-in task: its expert drives sim_node over DDS (lockstep, sensor noise, a new
start state per run) and every run is recorded into a rosbag2 MCAP bag, as `liquid-control
demo --controller expert` records it. A CfC and a GRU are trained from those bags only
(`liquid-control train --from-bag`, with the task's controller parameters file), then run
closed loop: 100 simulated episodes through the runtime, and one run under controller_node
over DDS. docs/your_robot.md reports the same pipeline's figures.

Minutes of wall time (recording, then four trainings): marked `long`.
"""
from pathlib import Path

import pytest

pytest.importorskip('mujoco')
pytest.importorskip('rclpy')

from liquid_control.bringup.session import SimSession
from liquid_control.cli.train import main as train_main
from liquid_control.recording.analysis import load_run, summarize_run
from liquid_control.runtime import load_controller
from liquid_control.sim.episode import evaluate
from liquid_control.tasks import get_task
from liquid_control.training.evaluation import EVAL_SEED, SessionController

pytestmark = pytest.mark.long

# Per task: recorded runs, each run's sim seconds (None: the task's episode), sensor noise
# (position std; velocity 5x, as `demo --noise`), observations that are angles.
RECORDINGS = {
    'cartpole': dict(runs=30, seconds=10.0, noise=0.03, angles=['cart_to_pole.position']),
    'diffdrive': dict(runs=16, seconds=None, noise=0.003, angles=[]),
}
EPISODES = 100
REQUIRED_SUCCESS = 0.90


def record_expert_runs(folder, task, runs, seconds, noise):
    """The task's expert over DDS, one bag per run; returns the bag folders."""
    seconds = seconds or get_task(task).episode_seconds
    bags = []
    for seed in range(1, runs + 1):
        session = SimSession(Path(folder) / f'run{seed}', task=task, controller='expert',
                             mode='lockstep', duration=seconds, seed=seed,
                             sim_params={'position_noise_std': noise,
                                         'velocity_noise_std': 5.0 * noise})
        try:
            session.start()
            assert session.run_to_end(), f'run {seed} did not finish'
        finally:
            codes = session.stop()
        assert codes == {'controller': 0, 'sim_node': 0}
        bags.append(session.bag_path)
    return bags


@pytest.fixture(scope='module', params=sorted(RECORDINGS))
def recorded(request, tmp_path_factory):
    task = request.param
    spec = RECORDINGS[task]
    folder = tmp_path_factory.mktemp(f'{task}_bags')
    return task, record_expert_runs(folder, task, spec['runs'], spec['seconds'],
                                    spec['noise'])


@pytest.mark.parametrize('arch', ['cfc', 'gru'])
def test_a_controller_trained_from_bags_only_does_the_task(recorded, arch, tmp_path):
    task_name, bags = recorded
    task = get_task(task_name)
    spec = RECORDINGS[task_name]
    out = tmp_path / 'models'
    argv = ['--from-bag', *map(str, bags), '--config', str(task.params_file), '--arch', arch,
            '--name', f'{task_name}_from_bags', '--out', str(out), '--runs', str(tmp_path)]
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
