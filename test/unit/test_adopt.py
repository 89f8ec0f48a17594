"""`liquid-control adopt`: policies exported by torch with their own input/output names (an
MLP, an LSTM with h and c as inputs and outputs) become contract files that step like the
original module, to 1e-5; every bad input is refused in one line and writes nothing."""
import numpy as np
import pytest
import torch
from torch import nn

from liquid_control.adoption import AdoptError, AdoptSpec, adopt
from liquid_control.cli.main import main as cli
from liquid_control.runtime import load_controller
from liquid_control.runtime.integrity import card_path

OBS = ('slider_to_cart.position', 'slider_to_cart.velocity', 'cart_to_pole.position',
       'cart_to_pole.velocity')
ACTIONS = ('slider_to_cart.effort',)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 32), nn.ELU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)


class LSTMPolicy(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 16)
        self.head = nn.Linear(16, 1)

    def forward(self, x, h, c):
        y, (h, c) = self.lstm(x.unsqueeze(0), (h, c))
        return self.head(y[0]), h, c


@pytest.fixture(scope='module')
def policies(tmp_path_factory):
    """The modules and their ONNX files, exported with names of their own (as IsaacLab and
    rl_sar-style exports are)."""
    folder = tmp_path_factory.mktemp('outside')
    torch.manual_seed(0)
    mlp, lstm = MLP().eval(), LSTMPolicy().eval()
    torch.onnx.export(mlp, (torch.zeros(1, 4),), folder / 'mlp.onnx', dynamo=False,
                      input_names=['observations'], output_names=['actions'],
                      dynamic_axes={'observations': {0: 'batch'}, 'actions': {0: 'batch'}},
                      opset_version=17)
    torch.onnx.export(lstm, (torch.zeros(1, 4), torch.zeros(1, 1, 16), torch.zeros(1, 1, 16)),
                      folder / 'lstm.onnx', dynamo=False, opset_version=17,
                      input_names=['obs_in', 'h_in', 'c_in'],
                      output_names=['act', 'h_out', 'c_out'])
    return {'mlp': (mlp, folder / 'mlp.onnx'), 'lstm': (lstm, folder / 'lstm.onnx')}


def spec(**over):
    return AdoptSpec(**{'obs_names': OBS, 'action_names': ACTIONS, 'action_low': [-30.0],
                        'action_high': [30.0], 'nominal_dt': 0.02, **over})


def observations(n, seed=1):
    return np.random.default_rng(seed).normal(0.0, 1.5, size=(n, 4)).astype(np.float32)


def test_an_mlp_policy_steps_as_the_torch_module(policies, tmp_path):
    module, path = policies['mlp']
    offset, scale, gain = [0.1, 0.0, -0.2, 0.0], [1.0, 0.5, 2.0, 0.25], 20.0
    adopted = adopt(path, spec(obs_offset=offset, obs_scale=scale, action_scale=[gain]),
                    tmp_path / 'cartpole_mlp.onnx')
    session = load_controller(adopted.path, require_recorded_sha256=True)   # card written
    assert (session.metadata.arch, session.metadata.n_state) == ('mlp', 0)
    assert session.metadata.obs_names == OBS
    for obs in observations(50):
        x = torch.from_numpy((obs - np.float32(offset)) * np.float32(scale))[None]
        with torch.no_grad():
            expected = np.clip(module(x).numpy()[0] * gain, -30.0, 30.0)
        np.testing.assert_allclose(session.step(obs, 0.02), expected, atol=1e-5)
    assert adopted.max_error <= 1e-5
    assert 'adopted from `mlp.onnx`' in card_path(adopted.path).read_text()


def test_an_lstm_policy_carries_its_state_as_the_torch_module(policies, tmp_path):
    module, path = policies['lstm']
    adopted = adopt(path, spec(arch='lstm', state=BOTH_STATES, action_scale=[30.0]),
                    tmp_path / 'cartpole_lstm.onnx')
    session = load_controller(adopted.path)
    assert session.metadata.n_state == 32
    h = c = torch.zeros(1, 1, 16)
    for obs in observations(100):
        with torch.no_grad():
            out, h, c = module(torch.from_numpy(obs)[None], h, c)
        expected = np.clip(out.numpy()[0] * 30.0, -30.0, 30.0)
        np.testing.assert_allclose(session.step(obs, 0.02), expected, atol=1e-5)
    # The state is the policy's: a reset starts it again from zeros.
    session.reset()
    with torch.no_grad():
        first = module(torch.from_numpy(observations(1)[0])[None], torch.zeros(1, 1, 16),
                       torch.zeros(1, 1, 16))[0].numpy()[0] * 30.0
    np.testing.assert_allclose(session.step(observations(1)[0], 0.02), first, atol=1e-5)


BOTH_STATES = [('h_in', 'h_out'), ('c_in', 'c_out')]


@pytest.mark.parametrize('over, message', [
    (dict(obs_names=OBS[:3], state=BOTH_STATES),
     "'obs_in' has shape [1, 4] (batch dimensions as 1): obs_names lists 3; they must match"),
    (dict(obs_input='obs_in', action_output='act', state=[('h_in', 'h_out')]),
     'has input(s) c_in that are neither'),
    (dict(state=[]), 'has 3 non-state inputs (obs_in, h_in, c_in): name the one to use with '
                     'obs_input (and its recurrent state with state IN:OUT pairs)'),
    (dict(obs_input='nope', state=BOTH_STATES), "obs_input 'nope' is not an input"),
    (dict(state=[('h', 'h_out'), ('c_in', 'c_out')]), "state input 'h' is not an input"),
    (dict(state=[('h_in', 'c_out'), ('c_in', 'x')]), "state output 'x' is not an output"),
    (dict(action_names=('a', 'b'), action_low=[0, 0], action_high=[1, 1], state=BOTH_STATES),
     "'act' has shape [1, 1]"),
])
def test_a_policy_that_does_not_fit_the_description_is_refused(policies, tmp_path, over,
                                                                message):
    _, path = policies['lstm']
    out = tmp_path / 'out' / 'x.onnx'
    with pytest.raises(AdoptError) as error:
        adopt(path, spec(**over), out)
    assert message in str(error.value)
    assert not out.exists() and not card_path(out).exists()
    assert not out.parent.exists() or not list(out.parent.iterdir())   # no temporary left


@pytest.mark.parametrize('over, message', [
    (dict(action_low=[1.0], action_high=[0.0]), 'is not below action_high'),
    (dict(nominal_dt=0), 'nominal_dt must be a control period'),
    (dict(obs_scale=[1, 2]), 'obs_scale has 2 value(s), expected 4'),
    (dict(action_scale=[float('nan')]), 'action_scale must be finite'),
    (dict(arch='My Policy'), 'arch must be a short lower-case name'),
    (dict(obs_names=('a', 'a', 'b', 'c')), 'obs_names must be distinct'),
    (dict(state=['h_in']), 'state pairs are [input, output] names'),
])
def test_a_bad_description_is_refused(over, message):
    with pytest.raises(AdoptError, match=message.replace('[', r'\[').replace(']', r'\]')
                       .replace('(', r'\(').replace(')', r'\)')):
        spec(**over)


def test_files_that_are_not_policies_are_refused(tmp_path):
    (tmp_path / 'notes.onnx').write_text('not a model')
    with pytest.raises(AdoptError, match='notes.onnx: not an ONNX model'):
        adopt(tmp_path / 'notes.onnx', spec(), tmp_path / 'x.onnx')
    with pytest.raises(AdoptError, match='no such model file'):
        adopt(tmp_path / 'missing.onnx', spec(), tmp_path / 'x.onnx')
    # An integer input cannot be adopted.
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node('Cast', ['ids'], ['act'], to=TensorProto.FLOAT)], 'g',
        [helper.make_tensor_value_info('ids', TensorProto.INT64, [1, 4])],
        [helper.make_tensor_value_info('act', TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)]),
              tmp_path / 'ints.onnx')
    with pytest.raises(AdoptError, match="'ids' is int64, only float32"):
        adopt(tmp_path / 'ints.onnx', spec(action_names=('a', 'b', 'c', 'd'),
                                           action_low=[0] * 4, action_high=[1] * 4),
              tmp_path / 'x.onnx')
    assert not (tmp_path / 'x.onnx').exists()


def test_the_command_line_with_a_yaml_description(policies, tmp_path, capsys):
    _, path = policies['lstm']
    config = tmp_path / 'lstm.yaml'
    config.write_text(f'obs_names: {list(OBS)}\naction_names: {list(ACTIONS)}\n'
                      'action_low: [-30.0]\naction_high: [30.0]\nnominal_dt: 0.02\n'
                      'arch: lstm\nstate: [[h_in, h_out], [c_in, c_out]]\n')
    out = tmp_path / 'models' / 'cartpole_lstm.onnx'
    assert cli(['adopt', str(path), '--config', str(config), '--out', str(out),
                '--action-scale', '30']) == 0
    assert 'matches the original' in capsys.readouterr().out
    assert load_controller(out).metadata.arch == 'lstm'
    assert cli(['inspect', str(out)]) == 0
    assert cli(['adopt', str(path), '--config', str(config), '--out', str(tmp_path / 'y.onnx'),
                '--state', 'h_in:h_out']) == 2
    err = capsys.readouterr().err
    assert err.startswith('liquid-control adopt: ') and len(err.strip().splitlines()) == 1
    config.write_text('obs_names: [a]\nbogus: 1\n')
    assert cli(['adopt', str(path), '--config', str(config), '--out', str(out)]) == 2
    assert 'unknown key(s) bogus' in capsys.readouterr().err
