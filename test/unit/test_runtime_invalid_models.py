"""Each kind of invalid model gives one clear error naming the file and what is wrong."""
import json

import pytest
from onnx import TensorProto

from liquid_control.runtime import ModelContractError, load_controller
from liquid_control.runtime import contract as c

from model_factory import build_model


def assert_one_line_error(path, match):
    with pytest.raises(ModelContractError, match=match) as info:
        load_controller(path)
    message = str(info.value)
    assert str(path) in message, 'the error must name the file'
    assert '\n' not in message, 'the error must be one line'
    return message


def test_missing_file(tmp_path):
    assert_one_line_error(tmp_path / 'nowhere.onnx', 'no such model file')


def test_not_onnx(tmp_path):
    path = tmp_path / 'text.onnx'
    path.write_text('this is not a protobuf\n')
    assert_one_line_error(path, 'not a loadable ONNX model')


def test_empty_file(tmp_path):
    path = tmp_path / 'empty.onnx'
    path.write_bytes(b'')
    assert_one_line_error(path, 'not a loadable ONNX model')


def test_wrong_input_names(tmp_path):
    path = tmp_path / 'names.onnx'
    build_model(path, input_names=('observation', 'state', 'dt'))
    assert_one_line_error(path, r"inputs are \['dt', 'observation', 'state'\]")


def test_wrong_dtype(tmp_path):
    path = tmp_path / 'dtype.onnx'
    build_model(path, dt_dtype=TensorProto.DOUBLE)
    assert_one_line_error(path, "'dt' has type tensor\\(double\\), expected float32")


def test_wrong_batch_dimension(tmp_path):
    path = tmp_path / 'batch.onnx'
    build_model(path, batch=2)
    assert_one_line_error(path, 'batch size 2, expected 1')


def test_observation_width_disagrees_with_obs_names(tmp_path):
    path = tmp_path / 'width.onnx'
    build_model(path, n_obs=4, props_override={c.KEY_OBS_NAMES: json.dumps(['a', 'b', 'c'])})
    assert_one_line_error(path, "'obs' has width 4, metadata says 3")


def test_n_state_mismatch(tmp_path):
    path = tmp_path / 'nstate.onnx'
    build_model(path, n_hidden=8, props_override={c.KEY_N_STATE: '16'})
    assert_one_line_error(path, 'n_state mismatch.*width 8.*says 16')


@pytest.mark.parametrize('key', c.REQUIRED_KEYS)
def test_missing_metadata(tmp_path, key):
    path = tmp_path / 'meta.onnx'
    build_model(path, props_override={key: None})
    assert_one_line_error(path, f'missing metadata {key}')


@pytest.mark.parametrize('key, value, match', [
    (c.KEY_CONTRACT, '99', 'reads contract'),
    (c.KEY_ARCH, 'Transformer v2', 'expected a short lower-case name'),
    (c.KEY_OBS_NAMES, 'obs_0,obs_1', 'not valid JSON'),
    (c.KEY_OBS_NAMES, '[]', 'non-empty JSON list'),
    (c.KEY_OBS_NAMES, '["a", "a", "b", "c"]', 'repeats a name'),
    (c.KEY_ACTION_LOW, '[-1, -2]', 'list of 1 finite numbers'),
    (c.KEY_ACTION_HIGH, '["big"]', 'list of 1 finite numbers'),
    (c.KEY_ACTION_LOW, '[5]', 'is not below action_high'),
    (c.KEY_NOMINAL_DT, '0', 'must be > 0'),
    (c.KEY_NOMINAL_DT, 'NaN', 'finite number'),
    (c.KEY_N_STATE, '8.5', 'integer >= 0'),
    (c.KEY_SEED, '-1', 'integer >= 0'),
    (c.KEY_WEIGHTS_SHA256, 'abc', 'not a hex sha256'),
])
def test_malformed_metadata(tmp_path, key, value, match):
    path = tmp_path / 'bad_meta.onnx'
    build_model(path, props_override={key: value})
    message = assert_one_line_error(path, match)
    assert key in message or 'action' in message, 'the error must name the metadata key'
