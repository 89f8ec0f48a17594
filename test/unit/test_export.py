"""Export: contract-valid files, and onnxruntime matches torch step for step."""
import json

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('ncps')
pytest.importorskip('onnx')

from liquid_control.nets import ALL_ARCHS, Policy
from liquid_control.runtime import contract as c
from liquid_control.tasks import get_task
from liquid_control.training.export import export_policy, weights_sha256

CARTPOLE = get_task('cartpole')
DIFFDRIVE = get_task('diffdrive')

PARITY_STEPS = 500
PARITY_TOL = 1e-5


def _policy(spec, arch, seed=0):
    torch.manual_seed(seed)
    policy = Policy(spec, arch, hidden=10)
    rng = np.random.default_rng(seed)
    policy.fit_normaliser(rng.normal(1.0, 2.0, (256, spec.n_obs)))
    return policy.eval()


@pytest.mark.parametrize('spec', [CARTPOLE, DIFFDRIVE], ids=lambda s: s.name)
@pytest.mark.parametrize('arch', ALL_ARCHS)
def test_parity_over_irregular_steps(tmp_path, spec, arch):
    policy = _policy(spec, arch)
    session = export_policy(policy, tmp_path / f'{spec.name}_{arch}.onnx', seed=7)
    rng = np.random.default_rng(1)
    state = policy.initial_state(1)
    worst_action = worst_state = 0.0
    for _ in range(PARITY_STEPS):
        obs = rng.normal(1.0, 2.0, spec.n_obs).astype(np.float32)
        dt = np.float32(rng.uniform(0.005, 0.05))
        with torch.no_grad():
            action, state = policy(torch.from_numpy(obs)[None], state,
                                   torch.tensor([[dt]], dtype=torch.float32))
        onnx_action = session.step(obs, dt)
        worst_action = max(worst_action, np.abs(onnx_action - action[0].numpy()).max())
        worst_state = max(worst_state,   # initial: the MLP's state is empty
                          np.abs(session.state - state[0].numpy()).max(initial=0.0))
    assert worst_action <= PARITY_TOL, f'action error {worst_action:.2e}'
    assert worst_state <= PARITY_TOL, f'state error {worst_state:.2e}'


@pytest.mark.parametrize('arch', ALL_ARCHS)
def test_metadata(tmp_path, arch):
    policy = _policy(CARTPOLE, arch)
    session = export_policy(policy, tmp_path / 'm.onnx', seed=3, commit='abc123')
    meta = session.metadata
    assert (meta.arch, meta.task, meta.seed, meta.source_commit) == (arch, 'cartpole', 3,
                                                                     'abc123')
    assert meta.obs_names == CARTPOLE.obs_names
    assert meta.action_names == CARTPOLE.action_names
    assert meta.action_low == CARTPOLE.action_low and meta.action_high == CARTPOLE.action_high
    assert meta.nominal_dt == CARTPOLE.nominal_dt
    assert meta.n_state == policy.state_size
    assert meta.weights_sha256 == weights_sha256(policy)
    assert meta.n_params > 0


def test_stateless_mlp_runs_through_the_runtime(tmp_path):
    """n_state 0: state and state_out are [1, 0] in the file, and the runtime steps it."""
    import onnx
    policy = _policy(CARTPOLE, 'mlp')
    session = export_policy(policy, tmp_path / 'cartpole_mlp.onnx')
    graph = onnx.load(str(tmp_path / 'cartpole_mlp.onnx')).graph

    def dims(values, name):
        value = next(v for v in values if v.name == name)
        return [d.dim_value for d in value.type.tensor_type.shape.dim]

    assert dims(graph.input, c.INPUT_STATE) == [1, 0]
    assert dims(graph.output, c.OUTPUT_STATE) == [1, 0]
    assert session.metadata.n_state == 0 and session.state.shape == (0,)
    obs, dt = np.array([0.1, -0.2, 3.0, 0.5], np.float32), 0.02
    first = session.step(obs, dt)
    session.step(obs + 1.0, 0.035)
    assert np.array_equal(session.step(obs, dt), first)   # no memory
    session.reset()
    assert session.steps == 3 and session.state.shape == (0,)
    with torch.no_grad():
        expected, _ = policy(torch.from_numpy(obs)[None], policy.initial_state(1),
                             torch.tensor([[dt]], dtype=torch.float32))
    assert np.abs(first - expected[0].numpy()).max() <= PARITY_TOL


def test_weights_sha256_is_stable_and_sensitive():
    a, b = _policy(CARTPOLE, 'cfc'), _policy(CARTPOLE, 'cfc')
    assert weights_sha256(a) == weights_sha256(b)
    with torch.no_grad():
        b.readout.bias.add_(1e-6)
    assert weights_sha256(a) != weights_sha256(b)


def test_ltc_weights_stored_once(tmp_path):
    """The ODE unfolds reuse one set of named weights instead of copying them per unfold."""
    import onnx
    policy = _policy(CARTPOLE, 'ltc')
    export_policy(policy, tmp_path / 'ltc.onnx')
    model = onnx.load(str(tmp_path / 'ltc.onnx'))
    stored = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    stored += sum(int(np.prod(a.t.dims)) for n in model.graph.node if n.op_type == 'Constant'
                  for a in n.attribute if a.name == 'value')
    weights = sum(v.numel() for v in policy.state_dict().values())
    assert stored < 1.5 * weights


def test_graph_interface(tmp_path):
    import onnx
    export_policy(_policy(DIFFDRIVE, 'gru'), tmp_path / 'g.onnx')
    model = onnx.load(str(tmp_path / 'g.onnx'))
    assert [i.name for i in model.graph.input] == list(c.INPUT_NAMES)
    assert [o.name for o in model.graph.output] == list(c.OUTPUT_NAMES)
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props[c.KEY_OBS_NAMES]) == list(DIFFDRIVE.obs_names)


@pytest.mark.parametrize('arch', ALL_ARCHS)
def test_folded_graph_is_smaller_and_equal(tmp_path, arch):
    """The deployment form has fewer nodes than the training module and steps the same."""
    import onnx
    policy = _policy(CARTPOLE, arch)
    folded = export_policy(policy, tmp_path / 'folded.onnx')
    plain = export_policy(policy, tmp_path / 'plain.onnx', fold=False)

    def nodes(name):
        graph = onnx.load(str(tmp_path / name)).graph
        return sum(n.op_type != 'Constant' for n in graph.node)

    assert nodes('folded.onnx') < nodes('plain.onnx')
    rng = np.random.default_rng(2)
    for _ in range(50):
        obs, dt = rng.normal(0, 2, CARTPOLE.n_obs), rng.uniform(0.005, 0.05)
        assert np.abs(folded.step(obs, dt) - plain.step(obs, dt)).max() <= PARITY_TOL


def test_export_over_a_recorded_model_replaces_its_record(tmp_path):
    """Re-exporting next to an old model card must not trip the runtime's hash check."""
    path = tmp_path / 'cartpole_gru.onnx'
    export_policy(_policy(CARTPOLE, 'gru', seed=0), path)
    (tmp_path / 'cartpole_gru.md').write_text('- file sha256: `' + '0' * 64 + '`\n')
    session = export_policy(_policy(CARTPOLE, 'gru', seed=1), path)
    assert session.metadata.arch == 'gru' and not (tmp_path / 'cartpole_gru.md').exists()
