"""Model integrity: the sha256 a model file must have, and where it is recorded.

A controller is one self-contained .onnx file. The runtime reads the file once into memory,
hashes exactly those bytes and hands the same bytes to onnxruntime (never the path), so
- the file checked is the file run: a file replaced or corrupted between the check and the
  load cannot slip through (no time-of-check/time-of-use gap);
- the hash covers everything that is loaded: ONNX external-data files are refused (a model
  loaded from bytes cannot reference files beside it).

Where the expected sha256 comes from, in order of strength:
1. a pin given by the caller (`expected_sha256`; the node's `model_sha256` parameter):
   the file must have exactly this hash;
2. the hash recorded next to the file: its model card `<name>.md` (the line
   ``- file sha256: `<hex>` `` that `liquid-control train` writes) or a sidecar
   `<name>.onnx.sha256` in `sha256sum` format (`<hex>  <name>.onnx`). A recorded hash is
   always checked when present: a card that disagrees with its model means the file changed
   after it was shipped. With `require_recorded` (the node's `require_sha256`) a model
   without a recorded hash is refused too.

All failures raise IntegrityError, a ModelContractError, so every caller that already
reports a bad model file (the node's configure and swap, `liquid-control inspect`) reports
these with the file name and the reason.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .contract import ModelContractError

CARD_SUFFIX = '.md'
SIDECAR_SUFFIX = '.sha256'
# The largest model file read (bytes). Shipped controllers are tens of kB to a few MB; a
# larger file is not a controller and would only cost the robot memory.
MAX_MODEL_BYTES = 256 * 1024 * 1024

_HEX64 = re.compile(r'^[0-9a-f]{64}$')
_CARD_LINE = re.compile(r'file sha256:\s*`?([0-9a-fA-F]{64})`?')


class IntegrityError(ModelContractError):
    """The model file is not the one expected (hash mismatch, missing record, bad record)."""


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def normalise_sha256(value, source='<expected sha256>'):
    """A sha256 given as text -> 64 lowercase hex digits; IntegrityError if it is not one."""
    text = str(value).strip().lower()
    if not _HEX64.match(text):
        raise IntegrityError(source, f'{value!r} is not a sha256 (64 hex digits)')
    return text


def read_model_bytes(path, max_bytes=MAX_MODEL_BYTES):
    """The whole model file, read once. ModelContractError if missing, unreadable or huge."""
    path = Path(path)
    try:
        with open(path, 'rb') as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise ModelContractError(path, 'no such model file') from None
    except IsADirectoryError:
        raise ModelContractError(path, 'no such model file (it is a directory)') from None
    except OSError as exc:
        raise ModelContractError(path, f'cannot read the model file ({exc.strerror or exc})') \
            from None
    if len(data) > max_bytes:
        raise ModelContractError(path, f'model file is larger than {max_bytes} bytes: '
                                 'not a controller')
    if not data:
        raise ModelContractError(path, 'not a loadable ONNX model (the file is empty)')
    return data


def card_path(model_path):
    """The model card beside a model: models/cartpole_cfc.onnx -> models/cartpole_cfc.md."""
    return Path(model_path).with_suffix(CARD_SUFFIX)


def sidecar_path(model_path):
    """The sha256sum sidecar: models/x.onnx -> models/x.onnx.sha256."""
    path = Path(model_path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def card_sha256_line(digest):
    """The model card line that records a file's sha256 (what sha256_from_card reads)."""
    return f'- file sha256: `{digest}`'


def forget_records(model_path):
    """Remove the card and sidecar recording the hash of a file about to be replaced: the
    runtime refuses a model whose recorded hash disagrees (the new record is written after)."""
    for record in (card_path(model_path), sidecar_path(model_path)):
        Path(record).unlink(missing_ok=True)


def recorded_model(path):
    """The model a record file describes (x.md, x.onnx.sha256 -> x.onnx), or None when
    `path` is not a card or sidecar."""
    path = Path(path)
    if path.suffix == CARD_SUFFIX:
        return path.with_suffix('.onnx')
    if path.suffix == SIDECAR_SUFFIX and path.stem.endswith('.onnx'):
        return path.with_suffix('')
    return None


def _read_text(path):
    try:
        return path.read_text(encoding='utf-8', errors='replace')
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IntegrityError(path, f'cannot read ({exc.strerror or exc})') from None


def sha256_from_card(text):
    """The file sha256 a model card records, or None."""
    match = _CARD_LINE.search(text)
    return match.group(1).lower() if match else None


def sha256_from_sidecar(text, model_name, source):
    """The hash in a `sha256sum` line (`<hex>  <name>` or `<hex> *<name>`, or just `<hex>`)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith('#')]
    if len(lines) != 1:
        raise IntegrityError(source, f'expected one "<sha256>  {model_name}" line, '
                             f'found {len(lines)}')
    digest, _, name = lines[0].strip().partition(' ')
    name = name.strip().lstrip('*')
    if name and name != model_name:
        raise IntegrityError(source, f'records the sha256 of {name!r}, not of {model_name!r}')
    return normalise_sha256(digest, source)


def recorded_sha256(model_path):
    """(sha256, where it is recorded) for a model file, or (None, None) when none is.

    Reads the model card and the sidecar; IntegrityError when they disagree.
    """
    model_path = Path(model_path)
    found = []
    card = card_path(model_path)
    text = _read_text(card)
    if text is not None:
        digest = sha256_from_card(text)
        if digest is not None:
            found.append((digest, card))
    sidecar = sidecar_path(model_path)
    text = _read_text(sidecar)
    if text is not None:
        found.append((sha256_from_sidecar(text, model_path.name, sidecar), sidecar))
    if not found:
        return None, None
    digests = {digest for digest, _ in found}
    if len(digests) > 1:
        raise IntegrityError(model_path, 'its records disagree: ' + ', '.join(
            f'{where.name} says {digest}' for digest, where in found))
    return found[0]


def check(model_path, actual_sha256, expected_sha256=None, require_recorded=False):
    """Check a model file's sha256 against the pin and its record; return the checked record.

    Raises IntegrityError naming the file, both hashes and where the expected one came from.
    """
    model_path = Path(model_path)
    described = recorded_model(model_path)
    if described is not None:
        # Else the card would be checked against itself: a misleading "sha256 does not match".
        kind = 'model card' if model_path.suffix == CARD_SUFFIX else 'sha256 record'
        raise ModelContractError(model_path, f'not an ONNX model: this is the {kind} of '
                                 f'{described.name}; give that .onnx file as the model')
    if expected_sha256:
        pin = normalise_sha256(expected_sha256)
        if pin != actual_sha256:
            raise IntegrityError(model_path, f'file sha256 {actual_sha256} does not match the '
                                 f'expected {pin}')
    recorded, where = recorded_sha256(model_path)
    if recorded is None:
        if require_recorded:
            raise IntegrityError(
                model_path, f'no recorded sha256 (a sha256 is required): expected a model card '
                f'{card_path(model_path).name} with a "file sha256" line or a sidecar '
                f'{sidecar_path(model_path).name}')
        return None
    if recorded != actual_sha256:
        raise IntegrityError(model_path, f'file sha256 {actual_sha256} does not match the '
                             f'{recorded} recorded in {where.name}: the file changed after it '
                             'was recorded (corrupted or replaced)')
    return recorded


def verify_directory(directory, suffix='.onnx'):
    """Check every model in a directory against its record.

    Returns [{'model', 'sha256', 'recorded_in', 'ok', 'problem'}], one per model file.
    """
    results = []
    for path in sorted(Path(directory).glob('*' + suffix)):
        entry = {'model': path.name, 'sha256': None, 'recorded_in': None, 'ok': False,
                 'problem': ''}
        try:
            entry['sha256'] = sha256_hex(read_model_bytes(path))
            recorded, where = recorded_sha256(path)
            entry['recorded_in'] = where.name if where is not None else None
            check(path, entry['sha256'], require_recorded=True)
            entry['ok'] = True
        except ModelContractError as exc:
            entry['problem'] = exc.problem
        results.append(entry)
    return results
