"""The integrity records read exactly: every refusal names the record file and the problem in
full (the operator reads it on the robot), comments and blank lines of a sidecar are skipped,
and verify_directory reports each model with all of its fields."""
from pathlib import Path

import pytest

from liquid_control.runtime import integrity
from liquid_control.runtime.integrity import IntegrityError

DIGEST = 'ab' * 32
SOURCE = Path('/models/x.onnx.sha256')


def refusal(text, model_name='x.onnx'):
    with pytest.raises(IntegrityError) as error:
        integrity.sha256_from_sidecar(text, model_name, SOURCE)
    return error.value


def test_sidecar_forms_that_are_read():
    for text in (f'{DIGEST}  x.onnx\n', f'{DIGEST} *x.onnx', f'{DIGEST}\n',
                 f'# sha256sum of the model\n\n{DIGEST}  x.onnx\n', f'{DIGEST.upper()}  x.onnx'):
        assert integrity.sha256_from_sidecar(text, 'x.onnx', SOURCE) == DIGEST, text


def test_sidecar_refusals_name_the_record_and_say_why():
    for text, problem in (
            ('', 'expected one "<sha256>  x.onnx" line, found 0'),
            ('# only a comment\n', 'expected one "<sha256>  x.onnx" line, found 0'),
            (f'{DIGEST}  x.onnx\n{DIGEST}  x.onnx\n',
             'expected one "<sha256>  x.onnx" line, found 2'),
            (f'{DIGEST}  y.onnx\n', "records the sha256 of 'y.onnx', not of 'x.onnx'"),
            (f'{DIGEST} **y.onnx\n', "records the sha256 of 'y.onnx', not of 'x.onnx'"),
            ('abc  x.onnx\n', "'abc' is not a sha256 (64 hex digits)")):
        error = refusal(text)
        assert (error.source, error.problem) == (str(SOURCE), problem), text
        assert str(error) == f'{SOURCE}: {problem}'


def test_a_comment_line_is_not_the_record_and_a_hash_line_is():
    # Only lines starting with '#' are comments: '#' inside the name is part of it.
    error = refusal(f'{DIGEST}  x#.onnx\n')
    assert error.problem == "records the sha256 of 'x#.onnx', not of 'x.onnx'"
    assert integrity.sha256_from_sidecar(f'{DIGEST}  x#.onnx', 'x#.onnx', SOURCE) == DIGEST
    # Binary mode's '*' is dropped, and only that.
    assert integrity.sha256_from_sidecar(f'{DIGEST} *Xx.onnx', 'Xx.onnx', SOURCE) == DIGEST


def test_a_pin_that_is_not_a_sha256_is_named_as_the_expected_one():
    with pytest.raises(IntegrityError) as error:
        integrity.normalise_sha256('12ab')
    assert (error.value.source, error.value.problem) == (
        '<expected sha256>', "'12ab' is not a sha256 (64 hex digits)")


def test_verify_directory_reports_every_field(tmp_path):
    from model_factory import build_model
    good, bad, bare = (tmp_path / f'{n}.onnx' for n in ('good', 'bad', 'bare'))
    for path in (good, bad, bare):
        build_model(path)
    digests = {p.name: integrity.sha256_hex(p.read_bytes()) for p in (good, bad, bare)}
    integrity.card_path(good).write_text(integrity.card_sha256_line(digests['good.onnx']))
    integrity.sidecar_path(bad).write_text(f'{"5" * 64}  bad.onnx\n')
    (tmp_path / 'empty.onnx').write_bytes(b'')
    results = {r['model']: r for r in integrity.verify_directory(tmp_path)}
    assert results == {
        'bad.onnx': {'model': 'bad.onnx', 'sha256': digests['bad.onnx'],
                     'recorded_in': 'bad.onnx.sha256', 'ok': False,
                     'problem': f'file sha256 {digests["bad.onnx"]} does not match the '
                                f'{"5" * 64} recorded in bad.onnx.sha256: the file changed '
                                'after it was recorded (corrupted or replaced)'},
        'bare.onnx': {'model': 'bare.onnx', 'sha256': digests['bare.onnx'],
                      'recorded_in': None, 'ok': False,
                      'problem': 'no recorded sha256 (a sha256 is required): expected a model '
                                 'card bare.md with a "file sha256" line or a sidecar '
                                 'bare.onnx.sha256'},
        'empty.onnx': {'model': 'empty.onnx', 'sha256': None, 'recorded_in': None,
                       'ok': False,
                       'problem': 'not a loadable ONNX model (the file is empty)'},
        'good.onnx': {'model': 'good.onnx', 'sha256': digests['good.onnx'],
                      'recorded_in': 'good.md', 'ok': True, 'problem': ''},
    }
