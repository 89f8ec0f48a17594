"""liquid_control.export: any torch module with the step signature (obs, state, dt) ->
(action, state) becomes a contract file that steps like it (<= 1e-5): ncps CfC, LTC and
NCP-wired cells, a GRU cell and an LSTM cell behind small wrappers. What cannot be exported
faithfully is refused with nothing written."""
import numpy as np
import pytest
import torch
from ncps.torch import CfCCell, LTCCell, WiredCfCCell
from ncps.wirings import AutoNCP
from torch import nn

import liquid_control
from liquid_control.runtime import load_controller
from liquid_control.runtime.integrity import card_path
from liquid_control.training.export_module import ExportError

NAMES = dict(obs_names=['x', 'v', 'theta', 'omega'], action_names=['force'], low=[-10.0],
             high=[10.0], nominal_dt=0.02)


class NcpsStep(nn.Module):
    """An ncps cell (its time input in seconds) with a linear readout."""

    def __init__(self, cell, width):
        super().__init__()
        self.cell, self.head = cell, nn.Linear(width, 1)

    def forward(self, obs, state, dt):
        output, state = self.cell(obs, state, dt.reshape(-1))
        return 10.0 * torch.tanh(self.head(output)), state


class GRUStep(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell, self.head = nn.GRUCell(5, 16), nn.Linear(16, 1)

    def forward(self, obs, state, dt):
        h = self.cell(torch.cat([obs, dt / 0.02], dim=1), state)   # dt as a feature
        return self.head(h), h


class LSTMStep(nn.Module):
    """h and c packed into one state vector."""

    def __init__(self):
        super().__init__()
        self.cell, self.head = nn.LSTMCell(4, 8), nn.Linear(8, 1)

    def forward(self, obs, state, dt):
        h, c = self.cell(obs, (state[:, :8], state[:, 8:]))
        return self.head(h), torch.cat([h, c], dim=1)


@pytest.mark.parametrize('make, arch', [
    (lambda: (NcpsStep(CfCCell(4, 16), 16), 16), 'cfc'),
    (lambda: (NcpsStep(WiredCfCCell(4, AutoNCP(12, 2)), 2), 12), 'ncp'),
    (lambda: (NcpsStep(LTCCell(AutoNCP(12, 2), 4), 2), 12), 'ltc'),
    (lambda: (GRUStep(), 16), 'gru'),
    (lambda: (LSTMStep(), 16), 'lstm'),
])
def test_a_module_exports_and_steps_like_itself(tmp_path, make, arch):
    torch.manual_seed(0)
    module, n_state = make()
    session = liquid_control.export(module, path=tmp_path / f'pole_{arch}.onnx',
                                    n_state=n_state, arch=arch, task='pole', **NAMES)
    assert (session.metadata.arch, session.metadata.n_state) == (arch, n_state)
    assert session.recorded_sha256 is not None                 # the card records the file
    assert 'parity with the module' in card_path(tmp_path / f'pole_{arch}.onnx').read_text()
    # An independent run: the file and the module, step by step at irregular dt.
    rng = np.random.default_rng(5)
    state = torch.zeros(1, n_state)
    session.reset()
    for _ in range(60):
        obs = rng.normal(size=4).astype(np.float32)
        dt = float(rng.uniform(0.01, 0.03))
        with torch.no_grad():
            action, state = module(torch.from_numpy(obs)[None], state, torch.tensor([[dt]]))
        np.testing.assert_allclose(session.step(obs, dt),
                                   np.clip(action.numpy()[0], -10.0, 10.0), atol=1e-5)


class Noisy(nn.Module):
    """Draws random numbers in forward: the file cannot step like it."""

    def forward(self, obs, state, dt):
        return obs[:, :1] + torch.rand(1, 1), state + dt


@pytest.mark.parametrize('module, n_state, over, message', [
    (Noisy(), 1, {}, 'the exported file differs from the module'),
    (LSTMStep(), 8, {}, 'the module does not take (obs [1, 4], state [1, 8], dt [1, 1])'),
    (GRUStep(), 16, dict(action_names=['a', 'b'], low=[0, 0], high=[1, 1]),
     'the module returned action [1, 1] and state [1, 16]; expected [1, 2]'),
    (GRUStep(), 16, dict(low=[10.0], high=[-10.0]), 'is not below action_high'),
    (GRUStep(), 16, dict(nominal_dt=0), 'nominal_dt must be > 0'),
    (GRUStep(), 16, dict(obs_names=['x', 'x', 'y', 'z']), 'repeats a name'),
])
def test_what_cannot_be_exported_faithfully_is_refused(tmp_path, module, n_state, over,
                                                       message):
    path = tmp_path / 'out' / 'm.onnx'
    with pytest.raises(ExportError) as error:
        liquid_control.export(module, path=path, n_state=n_state, **{**NAMES, **over})
    assert message in str(error.value)
    assert not path.exists() and not card_path(path).exists()
    assert not path.parent.exists() or not list(path.parent.iterdir())


def test_the_exported_file_is_what_the_node_loads(tmp_path):
    torch.manual_seed(1)
    path = tmp_path / 'pole_lstm.onnx'
    liquid_control.export(LSTMStep(), path=path, n_state=16, arch='lstm', **NAMES)
    session = load_controller(path, require_recorded_sha256=True)
    assert session.metadata.obs_names == tuple(NAMES['obs_names'])
    assert np.all(np.abs(session.step(np.ones(4), 0.02)) <= 10.0)
