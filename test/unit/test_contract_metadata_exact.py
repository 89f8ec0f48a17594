"""The contract's metadata parsed exactly: each refusal names the file and the key and says
what was found, word for word (it is what an operator reads when a model is refused), and
the edges of what is accepted."""
import pytest

from liquid_control.runtime import ModelContractError, ModelMetadata
from liquid_control.runtime import contract as c

SOURCE = 'models/x.onnx'
GOOD = {
    c.KEY_CONTRACT: '1', c.KEY_ARCH: 'cfc', c.KEY_TASK: 'cartpole',
    c.KEY_OBS_NAMES: '["a", "b"]', c.KEY_ACTION_NAMES: '["u"]',
    c.KEY_ACTION_LOW: '[-1]', c.KEY_ACTION_HIGH: '[2.5]', c.KEY_NOMINAL_DT: '0.02',
    c.KEY_N_STATE: '8', c.KEY_SEED: '3', c.KEY_SOURCE_COMMIT: 'abc123',
    c.KEY_WEIGHTS_SHA256: '0123456789abcdef' * 4,
}


def parsed(**changes):
    props = {**GOOD, **{getattr(c, k): v for k, v in changes.items()}}
    return ModelMetadata.from_props({k: v for k, v in props.items() if v is not None}, SOURCE)


def refusal(**changes):
    with pytest.raises(ModelContractError) as error:
        parsed(**changes)
    assert error.value.source == SOURCE
    return error.value.problem


def test_a_good_set_is_read_into_its_fields():
    meta = parsed()
    assert (meta.arch, meta.task, meta.obs_names, meta.action_names, meta.action_low,
            meta.action_high, meta.nominal_dt, meta.n_state, meta.seed, meta.source_commit,
            meta.weights_sha256, meta.n_params, meta.extra) == (
        'cfc', 'cartpole', ('a', 'b'), ('u',), (-1.0,), (2.5,), 0.02, 8, 3, 'abc123',
        '0123456789abcdef' * 4, None, {})
    assert (meta.n_obs, meta.n_act) == (2, 1)
    assert parsed(KEY_N_PARAMS='1234').n_params == 1234
    assert parsed(KEY_N_STATE='0').n_state == 0          # a stateless policy
    assert parsed(KEY_ARCH='my_policy-2').arch == 'my_policy-2'


@pytest.mark.parametrize('change, problem', [
    (dict(KEY_TASK=None, KEY_SEED=None),
     f'missing metadata {c.KEY_TASK}, {c.KEY_SEED}'),
    (dict(KEY_CONTRACT='2'),
     f"metadata {c.KEY_CONTRACT} is '2', this runtime reads contract '1'"),
    (dict(KEY_ARCH='CfC'),
     f"metadata {c.KEY_ARCH} is 'CfC', expected a short lower-case name (cfc, ltc, ncp, gru, "
     'mlp, lstm, ...)'),
    (dict(KEY_OBS_NAMES='a,b'), f"metadata {c.KEY_OBS_NAMES} is not valid JSON: 'a,b'"),
    (dict(KEY_OBS_NAMES='[]'),
     f"metadata {c.KEY_OBS_NAMES} must be a non-empty JSON list of names, got '[]'"),
    (dict(KEY_OBS_NAMES='["a", ""]'),
     f'metadata {c.KEY_OBS_NAMES} must be a non-empty JSON list of names, got \'["a", ""]\''),
    (dict(KEY_OBS_NAMES='["a", 1]'),
     f'metadata {c.KEY_OBS_NAMES} must be a non-empty JSON list of names, got \'["a", 1]\''),
    (dict(KEY_ACTION_NAMES='"u"'),
     f'metadata {c.KEY_ACTION_NAMES} must be a non-empty JSON list of names, got \'"u"\''),
    (dict(KEY_OBS_NAMES='["a", "a"]'),
     f'metadata {c.KEY_OBS_NAMES} repeats a name: \'["a", "a"]\''),
    (dict(KEY_ACTION_LOW='[-1, 0]'),
     f"metadata {c.KEY_ACTION_LOW} must be a JSON list of 1 finite numbers (one per action), "
     "got '[-1, 0]'"),
    (dict(KEY_ACTION_HIGH='[true]'),
     f"metadata {c.KEY_ACTION_HIGH} must be a JSON list of 1 finite numbers (one per action), "
     "got '[true]'"),
    (dict(KEY_ACTION_HIGH='[Infinity]'),
     f"metadata {c.KEY_ACTION_HIGH} must be a JSON list of 1 finite numbers (one per action), "
     "got '[Infinity]'"),
    (dict(KEY_ACTION_LOW='2.5'),
     f"metadata {c.KEY_ACTION_LOW} must be a JSON list of 1 finite numbers (one per action), "
     "got '2.5'"),
    (dict(KEY_ACTION_LOW='[2.5]'),
     "action 'u': action_low 2.5 is not below action_high 2.5"),
    (dict(KEY_NOMINAL_DT='0'), f'metadata {c.KEY_NOMINAL_DT} must be > 0, got 0.0'),
    (dict(KEY_NOMINAL_DT='-0.01'), f'metadata {c.KEY_NOMINAL_DT} must be > 0, got -0.01'),
    (dict(KEY_NOMINAL_DT='true'),
     f"metadata {c.KEY_NOMINAL_DT} must be a finite number, got 'true'"),
    (dict(KEY_NOMINAL_DT='"0.02"'),
     f"metadata {c.KEY_NOMINAL_DT} must be a finite number, got '\"0.02\"'"),
    (dict(KEY_NOMINAL_DT='NaN'), f"metadata {c.KEY_NOMINAL_DT} must be a finite number, got 'NaN'"),
    (dict(KEY_N_STATE='-1'), f"metadata {c.KEY_N_STATE} must be an integer >= 0, got '-1'"),
    (dict(KEY_N_STATE='8.0'), f"metadata {c.KEY_N_STATE} must be an integer >= 0, got '8.0'"),
    (dict(KEY_SEED='false'), f"metadata {c.KEY_SEED} must be an integer >= 0, got 'false'"),
    (dict(KEY_N_PARAMS='-5'), f"metadata {c.KEY_N_PARAMS} must be an integer >= 0, got '-5'"),
    (dict(KEY_WEIGHTS_SHA256='0123456789ABCDEF' * 4),
     f"metadata {c.KEY_WEIGHTS_SHA256} is not a hex sha256: '{'0123456789ABCDEF' * 4}'"),
    (dict(KEY_WEIGHTS_SHA256='0' * 63),
     f"metadata {c.KEY_WEIGHTS_SHA256} is not a hex sha256: '{'0' * 63}'"),
])
def test_each_refusal_word_for_word(change, problem):
    assert refusal(**change) == problem


def test_the_props_written_are_the_props_read():
    meta = parsed(KEY_N_PARAMS='77')
    props = meta.to_props()
    assert props == {**GOOD, c.KEY_ACTION_LOW: '[-1.0]', c.KEY_N_PARAMS: '77'}
    assert ModelMetadata.from_props(props, SOURCE) == meta
    assert c.KEY_N_PARAMS not in parsed().to_props()
