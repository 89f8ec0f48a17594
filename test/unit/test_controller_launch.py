"""What the launch files decide, without the launch system: launch arguments -> model, params
and node options (liquid_control.bringup.controller_launch), and the YAML launch file's wiring."""
from pathlib import Path

import pytest
import yaml

from liquid_control.bringup import controller_launch as la
from liquid_control.bringup.controller_launch import LaunchArgumentError, resolve
from liquid_control.control.params import ConfigError, parse_config, read_params_file
from liquid_control.share import share_file
from liquid_control.tasks import get_task, task_names

from ros_fixtures import CONFIG_DIR, REPO, build_task_model, params_from_config


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    """Test models as the only ones: not the source tree's models/ nor an installed share/."""
    from liquid_control.runtime import model_paths
    for name in ('cartpole_cfc', 'cartpole_gru', 'diffdrive_ltc'):
        task = name.split('_')[0]
        build_task_model(tmp_path / f'{name}.onnx', task)
    monkeypatch.setenv('LIQUID_CONTROL_MODEL_PATH', str(tmp_path))
    monkeypatch.setattr(model_paths, 'source_models_dir', lambda: tmp_path / 'none')
    monkeypatch.setattr(model_paths, 'installed_models_dir', lambda: None)
    monkeypatch.setattr(model_paths, 'registered_model_dirs', lambda: [])
    return tmp_path


def test_task_and_controller_select_the_shipped_model_and_config(model_dir):
    r = resolve(task='cartpole', controller='gru')
    assert r.model == 'cartpole_gru'
    # The installed config/ (share/liquid_control, or the source tree when not installed).
    assert r.params_file == share_file('config', 'cartpole.yaml').resolve()
    assert r.params_file == Path(get_task('cartpole').params_file).resolve()
    file, overrides = r.node_kwargs()['parameters']
    assert file == str(r.params_file)
    assert overrides == {'model': 'cartpole_gru', 'use_sim_time': False, 'autostart': True}
    # What the node will get (the file's entries, then the overrides) parses.
    parse_config({**params_from_config('cartpole'), **overrides})


def test_node_options(model_dir):
    r = resolve(task='diffdrive', controller='ltc', namespace='robot1', use_sim_time='true',
                autostart='False', log_level='DEBUG')
    kwargs = r.node_kwargs()
    assert (kwargs['package'], kwargs['executable'], kwargs['name'], kwargs['namespace']) == (
        'liquid_control', 'controller_node', 'liquid_controller', 'robot1')
    file, params = kwargs['parameters']
    assert params['model'] == 'diffdrive_ltc' and params['use_sim_time'] is True
    assert params['autostart'] is False
    assert read_params_file(file, 'liquid_controller', 'robot1')['action.topic'] == 'cmd_vel'
    assert kwargs['arguments'] == ['--ros-args', '--log-level', 'debug']


def test_model_argument_overrides_and_paths_become_absolute(model_dir, monkeypatch):
    monkeypatch.chdir(model_dir)
    r = resolve(task='cartpole', controller='cfc', model='cartpole_gru.onnx')
    assert r.model == str(model_dir / 'cartpole_gru.onnx')
    assert r.overrides['model'] == r.model
    assert resolve(model='cartpole_gru').model == 'cartpole_gru'


@pytest.mark.parametrize('kwargs,match', [
    (dict(task='walker'), 'task:=walker is not an installed task; installed: '
                          + ', '.join(task_names()) + '$'),
    (dict(controller='transformer'), 'controller:=transformer is not one of cfc, ltc, ncp, '
                                     'gru, mlp, mlp_stack, lstm'),
    (dict(controller='lstm'), "no model named 'cartpole_lstm'"),   # a baseline, not shipped
    (dict(controller='ncp'), "no model named 'cartpole_ncp'.*available models: cartpole_cfc, "
                             'cartpole_gru, diffdrive_ltc$'),
    (dict(model='/no/such/file.onnx'), 'no such model file'),
    (dict(use_sim_time='maybe'), 'use_sim_time:=maybe is not a boolean'),
    (dict(log_level='loud'), 'log_level:=loud'),
    (dict(params_file='/no/such.yaml'), r'params_file:=/no/such.yaml: .* no such file'),
])
def test_bad_arguments_fail_at_launch_with_the_reason(model_dir, kwargs, match):
    with pytest.raises(LaunchArgumentError, match=match):
        resolve(**kwargs)


def test_params_file_entries_merge_as_rcl_would_for_any_namespace(tmp_path):
    f = tmp_path / 'p.yaml'
    f.write_text(yaml.safe_dump({
        '/**': {'ros__parameters': {'use_sim_time': True, 'control_rate_hz': 10.0}},
        'liquid_controller': {'ros__parameters': {'control_rate_hz': 20.0,
                                                  'action': {'min': [-1.0]}}},
        '/robot1/liquid_controller': {'ros__parameters': {'control_rate_hz': 30.0}},
        'other_node': {'ros__parameters': {'control_rate_hz': 99.0}},
    }))
    node = 'liquid_controller'
    assert read_params_file(f, node, namespace='') == {
        'use_sim_time': True, 'control_rate_hz': 20.0, 'action.min': [-1.0]}
    assert read_params_file(f, node, namespace='robot1')['control_rate_hz'] == 30.0
    assert read_params_file(f, node, namespace='/robot2')['control_rate_hz'] == 20.0
    only_other = tmp_path / 'q.yaml'
    only_other.write_text(yaml.safe_dump({'other_node': {'ros__parameters': {'a': 1}}}))
    with pytest.raises(ConfigError, match='no ros__parameters for liquid_controller '
                                          r'\(keys: other_node\)'):
        read_params_file(only_other, node)
    with pytest.raises(LaunchArgumentError, match='no ros__parameters for liquid_controller'):
        resolve(params_file=str(only_other), check=False)


def test_check_can_be_skipped_for_a_model_on_another_machine():
    assert resolve(task='cartpole', controller='ltc', check=False).model == 'cartpole_ltc'


def test_yaml_launch_file_declares_the_same_arguments_and_passes_them_all():
    doc = yaml.safe_load((REPO / 'launch' / 'controller.launch.yaml').read_text())['launch']
    declared = {a['arg']['name']: a['arg'].get('default') for a in doc if 'arg' in a}
    assert declared == {a.name: a.default for a in la.LAUNCH_ARGUMENTS}
    include = [a['include'] for a in doc if 'include' in a][0]
    assert include['file'].endswith('/launch/controller.launch.py')
    assert {a['name']: a['value'] for a in include['arg']} == {
        n: f'$(var {n})' for n in declared}


def test_python_launch_file_uses_the_resolution_module():
    text = (REPO / 'launch' / 'controller.launch.py').read_text()
    assert 'resolve_from_context' in text and 'LAUNCH_ARGUMENTS' in text


def test_config_files_are_the_defaults_of_the_launch(model_dir):
    for task in ('cartpole', 'diffdrive'):
        default = la.default_params_file(task)
        assert default == share_file('config', f'{task}.yaml')
        assert default.read_text() == (CONFIG_DIR / f'{task}.yaml').read_text()
