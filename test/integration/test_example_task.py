"""The example task package (examples/pendulum_task), used as a user would use a task package
of their own: installed with pip into an environment of its own, with nothing under
liquid_control/ that knows it, it is listed, trains, evaluates, runs in sim_node under
controller_node, and the launch files resolve it.

The environment: a venv whose site-packages include the test run's (so liquid_control,
rclpy, torch and mujoco are the ones under test), with the example installed editable by pip.
"""
import json
import re
import subprocess
import sys
import sysconfig
import venv

import pytest

from ros_fixtures import REPO

pytest.importorskip('mujoco')
pytest.importorskip('torch')

EXAMPLE = REPO / 'examples' / 'pendulum_task'
TIMEOUT = 600


@pytest.fixture(scope='module')
def python(tmp_path_factory):
    """The interpreter of an environment where the example is installed."""
    env = tmp_path_factory.mktemp('example') / 'env'
    venv.create(env, with_pip=False)
    py = env / 'bin' / 'python'
    purelib = subprocess.run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()'
                              '["purelib"])'], capture_output=True, text=True, check=True)
    test_site = sysconfig.get_paths()['purelib']
    (env / purelib.stdout.strip() / 'test_environment.pth').write_text(
        f'import site; site.addsitedir({test_site!r})\n')
    install = subprocess.run([py, '-m', 'pip', 'install', '--no-deps', '--no-build-isolation',
                              '--quiet', '-e', str(EXAMPLE)],
                             capture_output=True, text=True, timeout=TIMEOUT)
    assert install.returncode == 0, install.stdout + install.stderr
    return py


def cli(python, *args, cwd=None):
    return subprocess.run([python, '-m', 'liquid_control.cli', *args], capture_output=True,
                          text=True, timeout=TIMEOUT, cwd=cwd)


def test_nothing_under_liquid_control_knows_the_example():
    mentions = [p for p in (REPO / 'liquid_control').rglob('*') if p.is_file()
                and p.suffix in ('.py', '.yaml', '.xml') and 'pendulum' in p.read_text()]
    assert not mentions
    assert 'pendulum' not in sys.modules  # and the test run itself does not have it


def test_the_installed_task_is_listed_with_its_package(python):
    listed = cli(python, 'tasks')
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if line.startswith('pendulum '))
    assert 'liquid-control-pendulum 0.1.0 (pendulum_task:TASK)' in line
    shown = cli(python, 'tasks', 'pendulum')
    assert shown.returncode == 0, shown.stderr
    assert f'controller params:   {EXAMPLE}/pendulum_task/config/pendulum.yaml' in shown.stdout
    assert 'simulator publishes: joint_states (sensor_msgs/msg/JointState)' in shown.stdout
    assert 'models:              pendulum_cfc' in shown.stdout


def test_it_trains_and_exports_under_the_contract(python, tmp_path):
    trained = cli(python, 'train', '--task', 'pendulum', '--arch', 'gru', '--quick', '--out',
                  str(tmp_path / 'models'), '--runs', str(tmp_path / 'runs'))
    assert trained.returncode == 0, trained.stdout + trained.stderr
    inspected = cli(python, 'inspect', str(tmp_path / 'models' / 'pendulum_gru.onnx'))
    assert inspected.returncode == 0, inspected.stderr
    assert re.search(r'^task\s+pendulum$', inspected.stdout, re.M), inspected.stdout
    assert re.search(r'^observations\s+hinge.position, hinge.velocity$', inspected.stdout, re.M)


def test_its_shipped_model_evaluates_beside_the_expert(python):
    evaluated = cli(python, 'eval', '--model', 'pendulum_cfc', '--episodes', '20')
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    rows = {line.split()[0]: line for line in evaluated.stdout.splitlines()
            if re.match(r'^(cfc|expert) ', line)}
    successes = {name: int(re.search(r' (\d+)/20 ', row).group(1)) for name, row in rows.items()}
    assert successes['expert'] == 20
    assert successes['cfc'] >= 19, evaluated.stdout


def test_it_runs_in_sim_node_under_controller_node(python, tmp_path):
    """The demo's closed loop: sim_node and controller_node as processes of the example's
    environment over DDS, in lockstep; the task's own summary line comes from its metrics."""
    run = cli(python, 'demo', '--task', 'pendulum', '--mode', 'lockstep', '--duration', '8',
              '--quiet', '--runs-dir', str(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    (summary_file,) = tmp_path.glob('*/summary.json')
    summary = json.loads(summary_file.read_text())
    assert summary['task'] == 'pendulum' and summary['episode']['success'], summary
    assert summary['loop_timing']['model'] == 'pendulum_cfc'
    assert summary['commands']['count'] > 300 and summary['commands']['out_of_limits'] == 0
    assert 'swing-up       upright after' in run.stdout
    assert (summary_file.parent / 'plot.png').stat().st_size > 20_000


def test_the_launch_files_resolve_it(python):
    """What sim.launch.py and controller.launch.py start for task:=pendulum (their logic;
    the launch system itself is not installed here)."""
    probe = subprocess.run([python, '-c', '''
import json
from liquid_control.bringup.controller_launch import resolve
from liquid_control.bringup.sim_launch import SIM_LAUNCH_ARGUMENTS, resolve_sim_launch
plan = resolve_sim_launch({**{a.name: a.default for a in SIM_LAUNCH_ARGUMENTS},
                           'task': 'pendulum', 'mode': 'lockstep'})
controller = resolve(**plan.controller_arguments)
print(json.dumps({'sim': plan.sim.node_kwargs()['parameters'][0],
                  'controller': controller.node_kwargs()['parameters']}, default=str))
'''], capture_output=True, text=True, timeout=TIMEOUT)
    assert probe.returncode == 0, probe.stderr
    out = json.loads(probe.stdout)
    assert out['sim']['task'] == 'pendulum' and out['sim']['publish_rate_hz'] == 50.0
    params_file, overrides = out['controller']
    assert params_file == str(EXAMPLE / 'pendulum_task' / 'config' / 'pendulum.yaml')
    assert overrides == {'model': 'pendulum_cfc', 'use_sim_time': True, 'autostart': True}
