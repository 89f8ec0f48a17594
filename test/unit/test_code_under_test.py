"""Processes that tests start import the code under test, not another installed copy."""
import os
import subprocess
import sys
from pathlib import Path

from isolation import REPO, pinned_pythonpath


def _imported_from(env, cwd):
    out = subprocess.run(
        [sys.executable, '-c', 'import liquid_control, liquid_control_tools; '
         'print(liquid_control.__file__); print(liquid_control_tools.__file__)'],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [Path(line) for line in out.stdout.split()]


def test_a_child_process_imports_this_checkout(tmp_path):
    for path in _imported_from(dict(os.environ), tmp_path):
        assert path.is_relative_to(REPO), path


def test_this_checkout_comes_before_another_copy_on_pythonpath(tmp_path):
    decoy = tmp_path / 'other' / 'liquid_control'
    decoy.mkdir(parents=True)
    (decoy / '__init__.py').write_text('raise ImportError("the decoy was imported")\n')
    env = dict(os.environ, PYTHONPATH=pinned_pythonpath(str(decoy.parent)))
    for path in _imported_from(env, tmp_path):
        assert path.is_relative_to(REPO), path
    assert env['PYTHONPATH'].split(os.pathsep)[-1] == str(decoy.parent)
