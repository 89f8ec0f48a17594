"""What the benchmarks share: the run context, which model files they use, results on disk,
percentiles and a description of the machine.

Heavy imports (torch, mujoco, rclpy) stay inside functions: `liquid-control --help` loads
this module.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]   # the source tree: tools run from it
ARCHS = ('cfc', 'ltc', 'ncp', 'gru')
ARCH_LABELS = {'cfc': 'CfC', 'ltc': 'LTC', 'ncp': 'NCP-CfC', 'gru': 'GRU', 'mlp': 'MLP',
               'mlp_stack': 'MLP-stack (8)', 'lstm': 'LSTM', 'expert': 'expert'}


@dataclass
class Context:
    """One `liquid-control bench` run."""

    quick: bool = False
    out_dir: Path = REPO / 'docs'                  # markdown documents; figures in img/
    results_dir: Path = REPO / 'runs' / 'bench'    # one JSON file per benchmark
    models_dir: Path = REPO / 'models'             # the shipped models
    workers: int = 2                               # processes for the study (cores: 2)
    tasks: tuple = None                            # study: None = every task with models
    archs: tuple = None                            # study: None = every trained arch
    backend: str = 'pool'                          # study: pool | ray (study/backends.py)
    ray_address: str = None                        # study on Ray: None = a local Ray
    log: object = print
    scratch: Path = field(default=None)            # temporary files of this run
    _untrained: dict = field(default_factory=dict)

    def __post_init__(self):
        self.out_dir = Path(self.out_dir)
        self.results_dir = Path(self.results_dir)
        self.models_dir = Path(self.models_dir)
        if self.scratch is None:
            self.scratch = Path(tempfile.mkdtemp(prefix='liquid_control_bench_'))

    # -- tasks and model files ----------------------------------------------------------------
    def study_tasks(self):
        """The tasks the study compares on: those asked for, else every installed task with an
        expert and at least one model in models_dir that is partially observed (memory can
        matter there) or is the full task of one (the same robot observed fully, beside it).
        A fully observed task with no such variant would only repeat that comparison."""
        from liquid_control.tasks import get_task, task_names
        if self.tasks:
            return tuple(get_task(t).name for t in self.tasks)
        tasks = [get_task(t) for t in task_names()]
        observed_in_part = {t.full_task.name for t in tasks if t.full_task is not None}
        return tuple(t.name for t in tasks if t.has_expert
                     and any(self.shipped(t.name, arch) for arch in ARCHS)
                     and (t.partially_observed or t.name in observed_in_part))

    def shipped(self, task, arch):
        """models/<task>_<arch>.onnx if it exists, else None."""
        path = self.models_dir / f'{task}_{arch}.onnx'
        return path if path.is_file() else None

    def untrained(self, task, arch):
        """An untrained Policy of the shipped arch and width exported under the contract:
        same graph, same step cost, random weights (needs torch)."""
        key = (task, arch)
        if key not in self._untrained:
            from liquid_control.tasks import get_task
            from liquid_control.training.export import export_policy

            policy = untrained_policy(get_task(task), arch)
            path = self.scratch / 'untrained' / f'{task}_{arch}.onnx'
            export_policy(policy, path, seed=0, commit='bench-untrained')
            self._untrained[key] = path
        return self._untrained[key]

    def model(self, task, arch, prefer_shipped=True):
        """(path, source) with source 'shipped' or 'untrained export'."""
        path = self.shipped(task, arch) if prefer_shipped else None
        if path is not None:
            return path, 'shipped'
        return self.untrained(task, arch), 'untrained export'


def untrained_policy(spec, arch, seed=0):
    """Policy(spec, arch) at its default width with seeded random weights."""
    import torch

    from liquid_control.nets import Policy

    torch.manual_seed(seed)
    return Policy(spec, arch).eval()


# -- results on disk -------------------------------------------------------------------------------
def save_result(ctx, name, result):
    ctx.results_dir.mkdir(parents=True, exist_ok=True)
    result = dict(result, benchmark=name, quick=ctx.quick, finished=time.strftime(
        '%Y-%m-%d %H:%M:%S'), machine=machine())
    path = ctx.results_dir / f'{name}.json'
    path.write_text(json.dumps(result, indent=1, default=_jsonable))
    return result


def load_result(ctx, name):
    path = ctx.results_dir / f'{name}.json'
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f'not JSON serialisable: {type(value).__name__}')


# -- statistics ------------------------------------------------------------------------------------
def percentiles(samples, qs=(50, 99)):
    """{'p50': .., 'p99': .., 'n': ..} of a sample (NaN when empty)."""
    a = np.asarray(samples, dtype=np.float64)
    out = {'n': int(a.size)}
    for q in qs:
        out[f'p{q:g}'] = float(np.percentile(a, q)) if a.size else float('nan')
    return out


# -- the machine -----------------------------------------------------------------------------------
def _cpu_model():
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def _versions():
    out = {'python': platform.python_version()}
    for module in ('numpy', 'onnxruntime', 'torch', 'mujoco'):
        mod = sys.modules.get(module)
        if mod is not None:
            out[module] = getattr(mod, '__version__', '?')
    return out


def machine():
    load = os.getloadavg() if hasattr(os, 'getloadavg') else (float('nan'),) * 3
    return {'cpu': _cpu_model(), 'cores': os.cpu_count(), 'loadavg_1min': load[0],
            'platform': platform.platform(terse=True), 'versions': _versions(),
            'commit': git_commit()}


def git_commit():
    try:
        out = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=REPO, text=True,
                             capture_output=True, timeout=10, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return 'unknown'


@contextlib.contextmanager
def environment(values):
    """os.environ with `values` for the block (a value of None unsets the variable), each
    variable's previous value or absence restored afterwards, also when the block raises."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        _set_environment(values)
        yield
    finally:
        _set_environment(saved)


def _set_environment(values):
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def ros_environment(base=None):
    """Environment for ROS 2 processes of one benchmark: a new private DDS domain on
    localhost (so parallel runs and other users never see each other), quick discovery (the
    package's Fast DDS profile, config/fastdds_profile.xml), warnings and errors only in the
    logs."""
    from liquid_control.bringup.processes import isolated_environment, private_domain_id
    env = isolated_environment(private_domain_id(), base=base)
    env['RCUTILS_LOGGING_SEVERITY_THRESHOLD'] = 'WARN'
    return env
