"""Cells and Policy: shapes, the common cell interface, dt handling, angle embedding."""
import math

import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('ncps')

from liquid_control.nets import ARCHS, Policy, count_params, make_cell
from liquid_control.tasks import get_task

CARTPOLE = get_task('cartpole')
DIFFDRIVE = get_task('diffdrive')


@pytest.mark.parametrize('arch', ARCHS)
def test_cell_interface(arch):
    torch.manual_seed(0)
    cell = make_cell(arch, n_in=5, units=12)
    x, h = torch.randn(3, 5), torch.randn(3, cell.state_size)
    y, h_new = cell(x, h, torch.full((3, 1), 0.5))
    assert y.shape == (3, cell.output_size)
    assert h_new.shape == (3, cell.state_size)
    assert torch.isfinite(h_new).all()


@pytest.mark.parametrize('arch', ARCHS)
def test_cells_see_dt(arch):
    """Every arch, GRU included, responds to the elapsed time."""
    torch.manual_seed(0)
    cell = make_cell(arch, n_in=3, units=10)
    x, h = torch.randn(2, 3), torch.randn(2, cell.state_size)
    _, short = cell(x, h, torch.full((2, 1), 0.2))
    _, long = cell(x, h, torch.full((2, 1), 2.0))
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
@pytest.mark.parametrize('arch', ARCHS)
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
    """cfc/ltc/gru within 1.5x of each other at the default width; the NCP far below."""
    counts = {a: count_params(Policy(CARTPOLE, a)) for a in ARCHS}
    dense = [counts[a] for a in ('cfc', 'ltc', 'gru')]
    assert max(dense) < 1.5 * min(dense)
    assert counts['ncp'] * 5 < counts['gru']


def test_ltc_constraints_keep_conductances_non_negative():
    policy = Policy(CARTPOLE, 'ltc', hidden=8)
    with torch.no_grad():
        policy.cell.cell._params['w'].fill_(-1.0)
    policy.constrain()
    assert (policy.cell.cell._params['w'] >= 0).all()
