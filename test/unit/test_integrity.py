"""Model integrity: the sha256 pin, the sha256 recorded in the model card (or a sidecar),
loading from the hashed bytes only, no custom operators, and where names are looked up."""
import hashlib
import os
from pathlib import Path

import onnx
import pytest
from onnx import helper

from liquid_control.runtime import ModelContractError, integrity, load_controller, resolve_model
from liquid_control.runtime.integrity import IntegrityError
from liquid_control.runtime.model_paths import ENV_MODEL_PATH, source_models_dir
from liquid_control.runtime.session import load_onnx_session

from model_factory import build_model

SHIPPED = sorted(source_models_dir().glob('*.onnx')) if source_models_dir().is_dir() else []


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def card(path, digest):
    """A model card as `liquid-control train` writes it (only the line that matters here)."""
    integrity.card_path(path).write_text(f'# {Path(path).stem}\n\n- file sha256: `{digest}`\n'
                                         f'- weights sha256: `{"0" * 64}`\n')


@pytest.fixture
def model(tmp_path):
    path = tmp_path / 'cartpole_gru.onnx'
    build_model(path, cell='gru')
    return path


def test_pin_must_match(model):
    session = load_controller(model, expected_sha256=sha(model).upper())
    assert session.file_sha256 == sha(model)
    with pytest.raises(IntegrityError, match='does not match the expected'):
        load_controller(model, expected_sha256='1' * 64)
    with pytest.raises(IntegrityError, match='not a sha256'):
        load_controller(model, expected_sha256='cafe')


def test_card_sha256_checked_whenever_present(model):
    card(model, sha(model))
    assert load_controller(model).recorded_sha256 == sha(model)
    # The file changes after its card was written (a corrupted copy, a replaced file).
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r'recorded in cartpole_gru\.md.*corrupted'):
        load_controller(model)


def test_a_card_or_sidecar_given_as_the_model_is_named_as_such(model):
    card(model, sha(model))
    sidecar = integrity.sidecar_path(model)
    sidecar.write_text(f'{sha(model)}  {model.name}\n')
    with pytest.raises(ModelContractError, match=r'cartpole_gru\.md: not an ONNX model: this '
                       r'is the model card of cartpole_gru\.onnx') as error:
        load_controller(integrity.card_path(model))
    assert not isinstance(error.value, IntegrityError)       # nothing was corrupted
    with pytest.raises(ModelContractError, match='is the sha256 record of cartpole_gru.onnx'):
        load_controller(sidecar)
    assert load_controller(model).recorded_sha256 == sha(model)


def test_require_recorded_sha256(model):
    load_controller(model)                         # no record: fine unless required
    with pytest.raises(IntegrityError, match='no recorded sha256.*cartpole_gru.md'):
        load_controller(model, require_recorded_sha256=True)
    card(model, sha(model))
    load_controller(model, require_recorded_sha256=True)


def test_sidecar_in_sha256sum_format(model):
    sidecar = integrity.sidecar_path(model)
    sidecar.write_text(f'{sha(model)}  {model.name}\n')
    assert load_controller(model, require_recorded_sha256=True).recorded_sha256 == sha(model)
    sidecar.write_text(f'{sha(model)}  other.onnx\n')
    with pytest.raises(IntegrityError, match="sha256 of 'other.onnx'"):
        load_controller(model)
    sidecar.write_text(f'{"2" * 64} *{model.name}\n')
    with pytest.raises(IntegrityError, match='does not match'):
        load_controller(model)


def test_card_and_sidecar_must_agree(model):
    card(model, sha(model))
    integrity.sidecar_path(model).write_text('3' * 64 + '\n')
    with pytest.raises(IntegrityError, match='records disagree'):
        load_controller(model)


def test_hash_is_checked_before_onnxruntime_parses(tmp_path):
    # Garbage with a pin that does not match: refused for the hash, not for the parse.
    path = tmp_path / 'garbage.onnx'
    path.write_bytes(b'\x00' * 100)
    with pytest.raises(IntegrityError, match='does not match'):
        load_controller(path, expected_sha256='4' * 64)


def test_external_data_is_refused(model, tmp_path):
    # The sha256 covers the .onnx file only, so a model whose weights live in another file
    # could change under an unchanged hash: such a model does not load at all.
    proto = onnx.load(str(model))
    external = tmp_path / 'external.onnx'
    onnx.save_model(proto, str(external), save_as_external_data=True,
                    all_tensors_to_one_file=True, location='external.data', size_threshold=0)
    assert (tmp_path / 'external.data').is_file()
    with pytest.raises(ModelContractError, match='external data'):
        load_controller(external)


def test_custom_operators_do_not_load(model, tmp_path):
    # No custom-op library is registered: an operator outside onnxruntime's own set fails
    # at load with a clear error, it never runs.
    proto = onnx.load(str(model))
    proto.graph.node.append(helper.make_node('Evil', ['action'], ['unused'],
                                             domain='com.example.custom'))
    proto.opset_import.append(helper.make_opsetid('com.example.custom', 1))
    path = tmp_path / 'custom.onnx'
    onnx.save(proto, str(path))
    with pytest.raises(ModelContractError, match='Evil.*not a registered'):
        load_controller(path)


def test_session_is_built_from_the_bytes_given(model, tmp_path):
    # What is hashed is what runs: the session never reopens the path.
    data = model.read_bytes()
    model.unlink()
    session = load_onnx_session(model, data)
    assert [i.name for i in session.get_inputs()] == ['obs', 'state', 'dt']


def test_missing_empty_and_directory(tmp_path):
    with pytest.raises(ModelContractError, match='no such model file'):
        load_controller(tmp_path / 'none.onnx')
    (tmp_path / 'dir.onnx').mkdir()
    with pytest.raises(ModelContractError, match='no such model file'):
        load_controller(tmp_path / 'dir.onnx')
    with pytest.raises(ModelContractError, match='larger than'):
        integrity.read_model_bytes(__file__, max_bytes=10)


def test_names_resolve_only_in_configured_directories(tmp_path, monkeypatch, model):
    configured = tmp_path / 'configured'
    configured.mkdir()
    elsewhere = tmp_path / 'cwd'
    elsewhere.mkdir()
    build_model(configured / 'good.onnx')
    build_model(elsewhere / 'planted.onnx')
    monkeypatch.setenv(ENV_MODEL_PATH, str(configured))
    monkeypatch.chdir(elsewhere)
    assert resolve_model('good') == configured / 'good.onnx'
    with pytest.raises(ModelContractError, match="no model named 'planted'"):
        resolve_model('planted')              # the working directory is never searched
    # An explicit path is the way to load a file from anywhere.
    assert resolve_model('./planted.onnx') == Path('./planted.onnx')
    assert resolve_model(str(elsewhere / 'planted.onnx')).is_file()


@pytest.mark.parametrize('name', ['..', '.hidden', '~root', 'a b', 'x\0y', '-rf', 'a\\b'])
def test_names_cannot_leave_the_directory(name, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_MODEL_PATH, str(tmp_path))
    with pytest.raises(ModelContractError, match='not a model name'):
        resolve_model(name)


def test_relative_model_path_entries_are_ignored(tmp_path, monkeypatch):
    (tmp_path / 'rel').mkdir()
    build_model(tmp_path / 'rel' / 'relmodel.onnx')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_MODEL_PATH, 'rel')
    with pytest.raises(ModelContractError, match="no model named 'relmodel'"):
        resolve_model('relmodel')
    monkeypatch.setenv(ENV_MODEL_PATH, os.pathsep.join(['rel', str(tmp_path / 'rel')]))
    assert resolve_model('relmodel') == tmp_path / 'rel' / 'relmodel.onnx'


def test_verify_directory(tmp_path):
    good, bad, bare = (tmp_path / f'{n}.onnx' for n in ('good', 'bad', 'bare'))
    for path in (good, bad, bare):
        build_model(path)
    card(good, sha(good))
    card(bad, '5' * 64)
    results = {r['model']: r for r in integrity.verify_directory(tmp_path)}
    assert results['good.onnx']['ok'] and results['good.onnx']['recorded_in'] == 'good.md'
    assert not results['bad.onnx']['ok'] and 'does not match' in results['bad.onnx']['problem']
    assert not results['bare.onnx']['ok'] and 'no recorded' in results['bare.onnx']['problem']


@pytest.mark.skipif(not SHIPPED, reason='no shipped models in models/ yet')
@pytest.mark.parametrize('path', SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_model_matches_its_card(path):
    assert integrity.card_path(path).is_file(), f'{path.name} has no model card'
    session = load_controller(path, require_recorded_sha256=True)
    assert session.recorded_sha256 == sha(path)
