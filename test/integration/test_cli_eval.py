"""`liquid-control eval`: closed loop in the ROS-free simulator through the ONNX runtime."""
import subprocess
import sys

from liquid_control.tasks import get_task

from model_factory import ReferenceCell, build_model, default_metadata

CARTPOLE = get_task('cartpole')

CLI = [sys.executable, '-m', 'liquid_control.cli', 'eval']


def cartpole_shaped_model(path):
    ref = ReferenceCell('cfc', CARTPOLE.n_obs, 16, CARTPOLE.n_act, 0)
    meta = default_metadata(ref, obs_names=CARTPOLE.obs_names,
                            action_names=CARTPOLE.action_names,
                            action_low=CARTPOLE.action_low, action_high=CARTPOLE.action_high)
    build_model(path, cell='cfc', n_obs=CARTPOLE.n_obs, n_hidden=16, n_act=CARTPOLE.n_act,
                metadata=meta)


def rows(stdout):
    """First column -> (successes, episodes) for the model and expert rows."""
    table = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and '/' in parts[1] and parts[1].split('/')[0].isdigit():
            wins, total = parts[1].split('/')
            table[parts[0]] = (int(wins), int(total))
    return table


def test_eval_prints_model_and_expert_on_the_same_episodes(tmp_path):
    model = tmp_path / 'untrained.onnx'
    cartpole_shaped_model(model)
    result = subprocess.run([*CLI, '--model', str(model), '--episodes', '3', '--dt-jitter',
                             '0.25', '--obs-noise', '0.05'],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    assert set(table) == {'cfc', 'expert'}
    assert table['expert'] == (3, 3), result.stdout
    assert table['cfc'][1] == 3
    assert 'dt jitter 0.25' in result.stdout and 'obs noise 0.05' in result.stdout


def test_eval_rejects_unknown_physics_and_bad_rate(tmp_path):
    model = tmp_path / 'untrained.onnx'
    cartpole_shaped_model(model)
    bad_physics = subprocess.run([*CLI, '--model', str(model), '--physics', 'gravity=2'],
                                 capture_output=True, text=True, timeout=120)
    assert bad_physics.returncode == 2
    assert "unknown physics change 'gravity'" in bad_physics.stderr
    bad_rate = subprocess.run([*CLI, '--model', str(model), '--rate', '0'],
                              capture_output=True, text=True, timeout=120)
    assert bad_rate.returncode == 2 and '--rate must be > 0' in bad_rate.stderr


def test_eval_runs_a_model_named_for_a_robot_in_the_task_given(tmp_path):
    # A model trained from bags names its robot, not a task: --task says where to run it.
    model = tmp_path / 'my_robot_cfc.onnx'
    ref = ReferenceCell('cfc', CARTPOLE.n_obs, 16, CARTPOLE.n_act, 0)
    build_model(model, cell='cfc', n_obs=CARTPOLE.n_obs, n_hidden=16, n_act=CARTPOLE.n_act,
                metadata=default_metadata(ref, task='my_robot', obs_names=CARTPOLE.obs_names,
                                          action_names=CARTPOLE.action_names,
                                          action_low=CARTPOLE.action_low,
                                          action_high=CARTPOLE.action_high))
    without = subprocess.run([*CLI, '--model', str(model), '--episodes', '1'],
                             capture_output=True, text=True, timeout=120)
    assert without.returncode == 2 and 'give --task' in without.stderr
    given = subprocess.run([*CLI, '--model', str(model), '--episodes', '2', '--task',
                            'cartpole', '--no-expert'], capture_output=True, text=True,
                           timeout=300)
    assert given.returncode == 0, given.stderr
    assert rows(given.stdout)['cfc'][1] == 2 and 'task cartpole' in given.stdout
