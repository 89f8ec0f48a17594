"""A seconds-long training run end to end: demonstrations, BC, DAgger, export, evaluation,
model card. Uses the MuJoCo tasks when the simulator is importable, and always a small
stand-in task so the pipeline is checked even without mujoco."""
import math

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('ncps')

from liquid_control.nets import BASELINES, Policy
from liquid_control.runtime import load_controller
from liquid_control.runtime.contract import LIQUID_AND_GRU
from liquid_control.tasks import Task, get_task
from liquid_control.training.train import train


class ToyEnv:
    """A point mass on a line (x'' = u) with a heading that turns with the velocity: a task
    environment without MuJoCo, to check the pipeline alone."""

    physics_dt = 0.005
    time_limit = 2.0

    def __init__(self, physics=None, task=None):
        self.task = task
        self.obs_scale = np.array(task.obs_scale)

    def reset(self, rng):
        self.x, self.v, self.heading, self.time = rng.uniform(-1, 1), 0.0, rng.uniform(-3, 3), 0.0
        self.u = 0.0

    def safe_action(self):
        return np.zeros(1)

    def reward(self):
        return -abs(self.x)

    def observe(self):
        return np.array([self.x, self.v, self.heading, self.v], dtype=np.float64)

    def apply(self, action):
        self.u = float(np.clip(action[0], -2, 2))

    def advance(self, duration):
        steps = max(1, round(duration / self.physics_dt))
        for _ in range(steps):
            self.v += self.u * self.physics_dt
            self.x += self.v * self.physics_dt
            self.heading += self.v * self.physics_dt
        self.time += steps * self.physics_dt
        return steps * self.physics_dt

    def done(self):
        return abs(self.x) > 5

    def metrics(self):
        return {'success': abs(self.x) < 0.5, 'tracking_error': abs(self.x),
                'max_tracking_error': abs(self.x)}


class ToyExpert:
    def reset(self):
        pass

    def act(self, obs, dt):
        return np.array([-4.0 * obs[0] - 3.0 * obs[1]])


TOY = Task(name='toy', description='a point mass to hold at the origin', mjcf='toy.xml',
           obs_names=('x', 'v', 'heading', 'turn_rate'), action_names=('force',),
           action_low=(-2.0,), action_high=(2.0,), angle_obs=('heading',),
           obs_scale=(0.5, 0.5, 1.0, 0.5), episode_seconds=2.0, env=ToyEnv, expert=ToyExpert)


@pytest.mark.parametrize('arch', ['cfc', 'ltc', 'ncp', 'gru'])
def test_quick_training_exports_a_loadable_model(tmp_path, arch):
    report = train(TOY, arch, seed=1, out_dir=tmp_path, quick=True,
                   run_dir=tmp_path / 'runs', hidden=8, log=lambda *_: None)
    session = load_controller(tmp_path / f'toy_{arch}.onnx')
    assert session.metadata.arch == arch and session.metadata.seed == 1
    assert session.metadata.obs_names == TOY.obs_names
    card = (tmp_path / f'toy_{arch}.md').read_text()
    assert session.file_sha256 in card and 'expert' in card
    assert report['eval']['episodes'] == 2 and math.isfinite(report['final_loss'])
    assert report['expert_eval']['episodes'] == 2
    assert (tmp_path / 'runs' / f'toy_{arch}.pt').is_file()


def test_same_seed_same_weights(tmp_path):
    a = train(TOY, 'gru', seed=3, out_dir=tmp_path / 'a', quick=True, hidden=8,
              log=lambda *_: None)
    b = train(TOY, 'gru', seed=3, out_dir=tmp_path / 'b', quick=True, hidden=8,
              log=lambda *_: None)
    assert a['final_loss'] == b['final_loss']
    meta_a = load_controller(tmp_path / 'a' / 'toy_gru.onnx').metadata
    meta_b = load_controller(tmp_path / 'b' / 'toy_gru.onnx').metadata
    assert meta_a.weights_sha256 == meta_b.weights_sha256


@pytest.mark.slow
def test_toy_task_is_learnable(tmp_path):
    """A few seconds of real training: the learner tracks the expert in closed loop."""
    report = train(TOY, 'gru', seed=0, out_dir=tmp_path, hidden=16,
                   log=lambda *_: None, expert_episodes=16, bc_batches=30, dagger_rounds=1,
                   dagger_episodes=8, dagger_batches=10, lanes=16, batch=8, chunk=25,
                   eval_episodes=10, threads=1)
    assert report['eval']['success_rate'] >= 0.7


def test_quick_training_on_the_cartpole_sim(tmp_path):
    pytest.importorskip('mujoco')
    report = train('cartpole', 'cfc', seed=0, out_dir=tmp_path, quick=True,
                   log=lambda *_: None)
    session = load_controller(tmp_path / 'cartpole_cfc.onnx')
    assert session.metadata.task == 'cartpole' and report['expert_eval']['episodes'] == 2


@pytest.mark.parametrize('arch', BASELINES)
def test_quick_training_of_a_baseline_on_the_cartpole_sim(tmp_path, arch):
    """The baselines go through the same recipe: a file the runtime loads and steps."""
    pytest.importorskip('mujoco')
    report = train('cartpole', arch, seed=0, out_dir=tmp_path, quick=True,
                   log=lambda *_: None)
    session = load_controller(tmp_path / f'cartpole_{arch}.onnx')
    meta = session.metadata
    assert meta.arch == arch and meta.task == 'cartpole'
    assert meta.n_state == Policy(get_task('cartpole'), arch).state_size == session.state.size
    assert report['n_params'] == meta.n_params
    for _ in range(3):
        action = session.step(np.array([0.1, 0.0, math.pi, 0.0]), 0.02)
        assert np.isfinite(action).all() and abs(action[0]) <= meta.action_high[0]
    card = (tmp_path / f'cartpole_{arch}.md').read_text()
    assert f'`{arch}` ({report["cell"]})' in card and f'state size {meta.n_state}' in card


def test_cli_all_trains_the_shipped_archs_unless_given_one(monkeypatch):
    """`train --all` (make models) rebuilds the shipped models: no baselines unless asked."""
    import liquid_control.training.train as training
    from liquid_control.cli.train import main
    jobs = []

    def fake_train(task, arch, **_):
        jobs.append((task, arch))
        return {'eval': {'success_rate': 1.0}}

    monkeypatch.setattr(training, 'train', fake_train)
    assert main(['--all', '--quick']) == 0
    assert {a for _, a in jobs} == set(LIQUID_AND_GRU) and ('cartpole', 'cfc') in jobs
    jobs.clear()
    assert main(['--all', '--arch', 'mlp_stack', '--quick']) == 0
    assert {a for _, a in jobs} == {'mlp_stack'} and ('diffdrive', 'mlp_stack') in jobs


def test_cli_requires_an_arch_with_a_task(capsys):
    from liquid_control.cli.train import main
    assert main(['--task', 'cartpole']) == 2
    assert '--arch is required' in capsys.readouterr().err
