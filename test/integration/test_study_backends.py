"""The study gives the same results wherever its jobs run: a tiny study (a partially observed
task, a liquid network and the memoryless baseline, two training seeds each) on a local
process pool and on a local Ray with two workers. Ray is part of the development install
(requirements/cluster.txt), so this test runs in `make test`."""
import json

import pytest

from liquid_control_tools.bench.common import Context
from liquid_control_tools.study.plan import Plan
from liquid_control_tools.study.run import run

pytest.importorskip('torch')
pytest.importorskip('mujoco')
ray = pytest.importorskip('ray', reason='Ray comes with requirements/cluster.txt')

TASK = 'cartpole_positions'


def tiny_study(tmp_path, backend):
    ctx = Context(quick=True, out_dir=tmp_path, results_dir=tmp_path / 'results',
                  tasks=(TASK,), workers=2, backend=backend, log=lambda *a: None,
                  scratch=tmp_path / 'scratch')
    return run(ctx, Plan.quick_plan((TASK,), archs=('cfc', 'mlp'), seeds=(0, 1)))


def outcomes(result):
    """Everything a study measures, without timings and paths."""
    data = result['tasks'][TASK]
    cells = {(cid, name): (c['success'], c['ret'], c['tracking_error'])
             for cid, by in data['cells'].items() for name, c in by.items()}
    seeds = {(arch, seed, cid): json.dumps(c, sort_keys=True)
             for arch, per in data['seeds'].items() for seed, by in per.items()
             for cid, c in by.items()}
    params = {arch: m.get('n_params') for arch, m in data['models'].items()}
    return cells, seeds, params


def test_pool_and_local_ray_give_the_same_study(tmp_path):
    pool = tiny_study(tmp_path / 'pool', 'pool')
    on_ray = tiny_study(tmp_path / 'ray', 'ray')
    assert not ray.is_initialized()                       # the study shut its Ray down
    assert (pool['backend'], on_ray['backend']) == ('pool', 'ray')
    assert on_ray['workers'] == 2 and pool['models_trained'] == on_ray['models_trained'] == 4
    cells, seeds, params = outcomes(pool)
    assert len(cells) == 16 * 3 and len(seeds) == 2 * (16 + 11)
    assert outcomes(on_ray) == (cells, seeds, params)
    # The models were trained in each run's own scratch folder, bit for bit alike.
    for arch in ('cfc', 'mlp'):
        a = (tmp_path / 'pool/scratch/study_models/seed1' / f'{TASK}_{arch}.onnx').read_bytes()
        b = (tmp_path / 'ray/scratch/study_models/seed1' / f'{TASK}_{arch}.onnx').read_bytes()
        assert a == b


def test_an_unknown_backend_is_refused():
    from liquid_control_tools.study.backends import make_backend
    with pytest.raises(ValueError, match="unknown backend 'slurm'; known: pool, ray"):
        make_backend('slurm', 2)
