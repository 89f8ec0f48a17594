"""The contract module: metadata round trip and model lookup by name."""
import pytest

from liquid_control.runtime import ModelContractError, ModelMetadata, resolve_model
from liquid_control.runtime import contract as c
from liquid_control.runtime.model_paths import ENV_MODEL_PATH, available_models

from model_factory import ReferenceCell, default_metadata


def test_metadata_round_trips_through_props():
    meta = default_metadata(ReferenceCell('cfc', 3, 4, 2, 0), n_params=123)
    props = meta.to_props()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in props.items())
    assert all(k.startswith(c.META_PREFIX) for k in props)
    assert ModelMetadata.from_props(props, 'x.onnx') == meta


def test_unknown_metadata_is_kept_as_extra():
    props = default_metadata(ReferenceCell('gru', 3, 4, 1, 0)).to_props()
    props['liquid_control.note'] = 'hello'
    assert ModelMetadata.from_props(props, 'x').extra == {'liquid_control.note': 'hello'}


def test_resolve_by_name_path_and_env(tmp_path, monkeypatch):
    (tmp_path / 'my_model.onnx').write_bytes(b'x')
    monkeypatch.setenv(ENV_MODEL_PATH, str(tmp_path))
    assert resolve_model('my_model') == tmp_path / 'my_model.onnx'
    assert resolve_model(str(tmp_path / 'my_model.onnx')) == tmp_path / 'my_model.onnx'
    assert 'my_model' in available_models()
    with pytest.raises(ModelContractError, match="no model named 'other'.*looked in"):
        resolve_model('other')
    with pytest.raises(ModelContractError, match='no such model file'):
        resolve_model(str(tmp_path / 'missing.onnx'))
    with pytest.raises(ModelContractError, match='empty model name'):
        resolve_model('  ')
