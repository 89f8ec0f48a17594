"""Cells and Policy: shapes, the common cell interface, dt handling, angle embedding."""
import math

import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('ncps')

from liquid_control.nets import ALL_ARCHS, BASELINES, Policy, count_params, make_cell
from liquid_control.nets.mlp_stack import FRAMES
from liquid_control.runtime import contract
from liquid_control.tasks import get_task

CARTPOLE = get_task('cartpole')
DIFFDRIVE = get_task('diffdrive')


def test_the_nets_build_what_the_contract_names():
    assert ALL_ARCHS == contract.ARCHS == contract.LIQUID_AND_GRU + contract.BASELINES
    assert BASELINES == ('mlp', 'mlp_stack', 'lstm')
    with pytest.raises(ValueError, match='unknown arch'):
        make_cell('transformer', n_in=3)


@pytest.mark.parametrize('arch', ALL_ARCHS)
def test_cell_interface(arch):
    torch.manual_seed(0)
    cell = make_cell(arch, n_in=5, units=12)
    x, h = torch.randn(3, 5), torch.randn(3, cell.state_size)
    y, h_new = cell(x, h, torch.full((3, 1), 0.5))
    assert y.shape == (3, cell.output_size)
    assert h_new.shape == (3, cell.state_size)
    assert torch.isfinite(h_new).all()


@pytest.mark.parametrize('arch', ALL_ARCHS)
def test_cells_see_dt(arch):
    """Every arch, GRU and the baselines included, responds to the elapsed time (in its
    output or its state: the MLP has no state)."""
    torch.manual_seed(0)
    cell = make_cell(arch, n_in=3, units=10)
    x, h = torch.randn(2, 3), torch.randn(2, cell.state_size)
    short = torch.cat(cell(x, h, torch.full((2, 1), 0.2)), dim=1)
    long = torch.cat(cell(x, h, torch.full((2, 1), 2.0)), dim=1)
    assert not torch.allclose(short, long)


def test_batched_dt_differs_per_row():
    """Per-row dt (B, 1) is honoured, the case ncps' sequence wrappers get wrong."""
    torch.manual_seed(0)
    cell = make_cell('cfc', n_in=3, units=8)
    x, h = torch.randn(1, 3).repeat(2, 1), torch.zeros(2, 8)
    _, out = cell(x, h, torch.tensor([[0.5], [1.5]]))
    _, first = cell(x[:1], h[:1], torch.tensor([[0.5]]))
    assert torch.allclose(out[:1], first, atol=1e-6)
    assert not torch.allclose(out[0], out[1])


@pytest.mark.parametrize('spec', [CARTPOLE, DIFFDRIVE], ids=lambda s: s.name)
@pytest.mark.parametrize('arch', ALL_ARCHS)
def test_policy_step_and_limits(spec, arch):
    torch.manual_seed(0)
    policy = Policy(spec, arch, hidden=12)
    obs = 100 * torch.randn(4, spec.n_obs)
    action, state = policy(obs, policy.initial_state(4), torch.full((4, 1), 0.02))
    assert action.shape == (4, spec.n_act) and state.shape == (4, policy.state_size)
    low, high = torch.tensor(spec.action_low), torch.tensor(spec.action_high)
    assert ((action >= low) & (action <= high)).all()


def test_angles_are_embedded_periodically():
    torch.manual_seed(0)
    policy = Policy(CARTPOLE, 'gru', hidden=8)
    obs = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
    wound = obs.clone()
    wound[0, CARTPOLE.obs_names.index(CARTPOLE.angle_obs[0])] += 4 * math.pi
    assert torch.allclose(policy.features(obs), policy.features(wound), atol=1e-5)
    assert policy.n_features == CARTPOLE.n_obs + len(CARTPOLE.angle_obs)


def test_normaliser_fit():
    policy = Policy(DIFFDRIVE, 'cfc', hidden=8)
    data = torch.randn(1000, DIFFDRIVE.n_obs) * 3 + 2
    policy.fit_normaliser(data.numpy())
    x = policy.features(data)
    assert x.mean(0).abs().max() < 1e-4 and (x.std(0) - 1).abs().max() < 1e-3


def test_unroll_matches_steps():
    torch.manual_seed(0)
    policy = Policy(CARTPOLE, 'ltc', hidden=8)
    obs, dt = torch.randn(2, 5, 4), torch.rand(2, 5, 1) * 0.04 + 0.005
    actions, final = policy.unroll(obs, dt)
    state = policy.initial_state(2)
    for t in range(5):
        a, state = policy(obs[:, t], state, dt[:, t])
        assert torch.allclose(a, actions[:, t])
    assert torch.allclose(state, final)


def test_parameter_budgets():
    """cfc/ltc/gru and the baselines within 1.5x of each other at the default width; the
    NCP far below."""
    counts = {a: count_params(Policy(CARTPOLE, a)) for a in ALL_ARCHS}
    dense = [counts[a] for a in ('cfc', 'ltc', 'gru', *BASELINES)]
    assert max(dense) < 1.5 * min(dense)
    assert counts['ncp'] * 5 < counts['gru']


def test_ltc_constraints_keep_conductances_non_negative():
    policy = Policy(CARTPOLE, 'ltc', hidden=8)
    with torch.no_grad():
        policy.cell.cell._params['w'].fill_(-1.0)
    policy.constrain()
    assert (policy.cell.cell._params['w'] >= 0).all()


def test_state_sizes_of_the_baselines():
    n_in, units = 5, 12
    assert make_cell('mlp', n_in, units).state_size == 0
    assert make_cell('mlp_stack', n_in, units).state_size == (FRAMES - 1) * (n_in + 1)
    assert make_cell('lstm', n_in, units).state_size == 2 * units
    assert all(make_cell(a, n_in, units).output_size == units for a in BASELINES)


def test_mlp_has_no_memory():
    """Same observation and dt, same action, whatever came before."""
    torch.manual_seed(0)
    policy = Policy(CARTPOLE, 'mlp', hidden=12).eval()
    obs, dt = torch.randn(1, CARTPOLE.n_obs), torch.full((1, 1), 0.02)
    state = policy.initial_state(1)
    assert state.shape == (1, 0)
    first, state = policy(obs, state, dt)
    for _ in range(3):
        _, state = policy(torch.randn(1, CARTPOLE.n_obs), state, torch.rand(1, 1) * 0.05)
    again, state = policy(obs, state, dt)
    assert state.shape == (1, 0)
    assert torch.equal(first, again)


def _frames(n, n_in, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, n_in, generator=gen), torch.rand(n, 1, 1, generator=gen) + 0.5


def _run(cell, xs, dts):
    h = torch.zeros(1, cell.state_size)
    for x, dt in zip(xs, dts):
        y, h = cell(x, h, dt)
    return y, h


def test_mlp_stack_state_is_the_last_frames():
    """After K or more steps the state is the K-1 most recent frames [x, dt], oldest first;
    before that, zeros fill the older places."""
    torch.manual_seed(0)
    cell = make_cell('mlp_stack', n_in=3, units=8)
    xs, dts = _frames(FRAMES + 3, 3, seed=1)
    frames = [torch.cat([x, dt], dim=1) for x, dt in zip(xs, dts)]
    _, h = _run(cell, xs, dts)
    assert torch.equal(h, torch.cat(frames[-(FRAMES - 1):], dim=1))
    _, h = _run(cell, xs[:2], dts[:2])
    assert torch.equal(h, torch.cat([torch.zeros(1, (FRAMES - 3) * 4)] + frames[:2], dim=1))


@pytest.mark.parametrize('age', range(1, FRAMES + 2))
def test_mlp_stack_sees_exactly_the_last_k_frames(age):
    """The output depends on the frame `age` steps back for age < K, not for age >= K."""
    torch.manual_seed(0)
    cell = make_cell('mlp_stack', n_in=3, units=8)
    xs, dts = _frames(FRAMES + 4, 3, seed=2)
    changed = xs.clone()
    changed[-1 - age] += 1.0
    y, _ = _run(cell, xs, dts)
    y_changed, _ = _run(cell, changed, dts)
    assert torch.equal(y, y_changed) == (age >= FRAMES)


def test_lstm_state_is_h_then_c():
    torch.manual_seed(0)
    cell = make_cell('lstm', n_in=3, units=6)
    x, h, c, dt = torch.randn(2, 3), torch.randn(2, 6), torch.randn(2, 6), torch.rand(2, 1)
    y, state = cell(x, torch.cat([h, c], dim=1), dt)
    h_ref, c_ref = cell.cell(torch.cat([x, dt], dim=1), (h, c))
    assert torch.equal(y, h_ref)
    assert torch.equal(state, torch.cat([h_ref, c_ref], dim=1))
