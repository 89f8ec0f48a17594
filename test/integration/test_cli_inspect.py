"""`liquid-control inspect` as a user runs it: a separate process, real onnxruntime."""
import subprocess
import sys
from pathlib import Path

from model_factory import build_model

CLI = [sys.executable, '-m', 'liquid_control.cli']


def run_cli(*args, cwd):
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_inspect_shows_contract_metadata_parameters_and_step_time(tmp_path):
    path = tmp_path / 'cfc.onnx'
    ref = build_model(path, cell='cfc', n_obs=4, n_hidden=12, n_act=1)
    result = run_cli('inspect', str(path), '--steps', '200', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'arch         cfc' in out
    assert 'obs [1, 4]  state [1, 12]  dt [1, 1]' in out
    assert 'action [1, 1]  state_out [1, 12]' in out
    assert 'observations obs_0, obs_1, obs_2, obs_3' in out
    n_weights = sum(w.size for w in ref.w.values()) + sum(b.size for b in ref.b.values())
    n_weights += ref.w_out.size + ref.b_out.size
    params = int(next(line for line in out.splitlines() if line.startswith('parameters')).split()[1])
    assert params >= n_weights  # plus normalisation constants stored in the graph
    step_line = next(line for line in out.splitlines() if line.startswith('step time'))
    median_us = float(step_line.split('median ')[1].split(' us')[0])
    assert 0 < median_us < 1e5


def test_inspect_of_an_invalid_model_is_one_line_naming_the_problem(tmp_path):
    path = tmp_path / 'garbage.onnx'
    path.write_bytes(b'\x00\x01garbage')
    result = run_cli('inspect', str(path), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and 'not a loadable ONNX model' in lines[0]


def test_inspect_of_an_unknown_name_says_where_it_looked(tmp_path):
    result = run_cli('inspect', 'no_such_model', cwd=tmp_path)
    assert result.returncode == 2
    assert "no model named 'no_such_model'" in result.stderr
    assert str(Path(__file__).resolve().parents[2] / 'models') in result.stderr
