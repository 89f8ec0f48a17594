"""`adopt(policy, spec, out)`: a policy trained elsewhere becomes a contract file the node runs.

The result is checked before it is kept: it must load through the runtime, and over a run of
random observations (with the recurrent state carried along) it must give the original's
actions, scaled and clipped as the spec says, to within PARITY_TOLERANCE. The file is written
under a temporary name and renamed only then, so a failure never leaves a half-made model.
"""
from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liquid_control.runtime import contract as c
from liquid_control.runtime.contract import ModelContractError, ModelMetadata
from liquid_control.runtime.integrity import (card_path, card_sha256_line, forget_records,
                                               read_model_bytes)

from .graph import PolicyInterface, require_onnx, wrap
from .spec import AdoptError

PARITY_TOLERANCE = 1e-5
PARITY_STEPS = 200
KEY_ADOPTED_FROM = c.META_PREFIX + 'adopted_from'


@dataclass(frozen=True)
class Adopted:
    path: Path
    metadata: ModelMetadata
    max_error: float                   # largest |action - original's| over the parity run
    source_sha256: str


def adopt(policy_path, spec, out_path, seed=0):
    """Wrap `policy_path` (ONNX) as `out_path` under the contract; returns Adopted."""
    onnx = require_onnx()
    policy_path, out_path = Path(policy_path), Path(out_path)
    try:
        data = read_model_bytes(policy_path)
    except ModelContractError as exc:
        raise AdoptError(str(exc)) from None
    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise AdoptError(f'{policy_path}: not an ONNX model ({type(exc).__name__})') from None
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        raise AdoptError(f'{policy_path}: its weights are in external data files; save it as '
                         'one file (onnx.save(model, path, save_as_external_data=False))')
    interface = PolicyInterface(model, spec, policy_path)
    wrapped = wrap(model, spec, interface)
    source_sha = hashlib.sha256(data).hexdigest()
    metadata = ModelMetadata(
        arch=spec.arch, task=spec.task, obs_names=spec.obs_names,
        action_names=spec.action_names, action_low=spec.action_low,
        action_high=spec.action_high, nominal_dt=spec.nominal_dt, n_state=interface.n_state,
        seed=0, source_commit='unknown', weights_sha256=source_sha,
        n_params=int(sum(math.prod(t.dims) for t in model.graph.initializer)),
        extra={KEY_ADOPTED_FROM: f'{policy_path.name} sha256 {source_sha}'})
    for key, value in metadata.to_props().items():
        wrapped.metadata_props.add(key=key, value=value)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f'.{out_path.name}.adopting')
    try:
        tmp.write_bytes(wrapped.SerializeToString())
        max_error = parity(tmp, data, spec, interface, seed)
        forget_records(out_path)                  # they describe the file being replaced
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    adopted = Adopted(out_path, metadata, max_error, source_sha)
    write_card(adopted, policy_path, spec, interface)
    return adopted


def parity(wrapped_path, policy_bytes, spec, interface, seed=0, steps=PARITY_STEPS):
    """Largest |wrapped action - original action (scaled, clipped)| over `steps` steps of
    random observations; AdoptError above PARITY_TOLERANCE."""
    import onnxruntime as ort

    from liquid_control.runtime import load_controller
    try:
        session = load_controller(wrapped_path)
    except ModelContractError as exc:
        raise AdoptError(f'the wrapped model does not load: {exc.problem}') from None
    original = ort.InferenceSession(policy_bytes, providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(seed)
    offset = np.asarray(spec.obs_offset, np.float32)
    scale = np.asarray(spec.obs_scale, np.float32)
    states = {i: np.zeros(shape_in, np.float32)
              for (i, _), (shape_in, _) in zip(spec.state, interface.state_shapes)}
    worst = 0.0
    for _ in range(steps):
        # Observations spread around the policy's own input scale.
        obs = (offset + rng.standard_normal(offset.size).astype(np.float32)
               / np.where(scale != 0, scale, 1.0)).astype(np.float32)
        feeds = {interface.obs_input: ((obs - offset) * scale).reshape(interface.obs_shape),
                 **states}
        names = [interface.action_output] + [o for _, o in spec.state]
        results = original.run(names, feeds)
        expected = np.clip(results[0].reshape(-1) * np.asarray(spec.action_scale)
                           + np.asarray(spec.action_offset), spec.action_low, spec.action_high)
        for (i, _), value in zip(spec.state, results[1:]):
            states[i] = value.reshape(states[i].shape)
        got = session.step(obs, spec.nominal_dt)
        worst = max(worst, float(np.max(np.abs(got - expected))))
    if not worst <= PARITY_TOLERANCE:
        raise AdoptError(f'the wrapped model differs from the original by {worst:.3g} '
                         f'(> {PARITY_TOLERANCE:g}); nothing was written')
    return worst


def write_card(adopted, policy_path, spec, interface):
    """The model card beside the file: provenance, interface, parity, and the file sha256
    the runtime checks it against."""
    m = adopted.metadata
    file_sha = hashlib.sha256(adopted.path.read_bytes()).hexdigest()
    state = ', '.join(f'{i} -> {o} {list(shape)}'
                      for (i, o), (shape, _) in zip(spec.state, interface.state_shapes))
    lines = [
        f'# {adopted.path.stem}',
        '',
        f'- adopted from `{policy_path.name}` (sha256 `{adopted.source_sha256}`), not '
        'retrained: its graph runs unchanged inside this file',
        f'- arch: `{m.arch}`; {m.n_params} weights; state: {state or "none (stateless)"} '
        f'= {m.n_state} values',
        f'- observations ({interface.obs_input!r}): {", ".join(m.obs_names)}; policy input = '
        f'(obs - {list(spec.obs_offset)}) * {list(spec.obs_scale)}',
        f'- actions ({interface.action_output!r}): {", ".join(m.action_names)} = output * '
        f'{list(spec.action_scale)} + {list(spec.action_offset)}, clipped to '
        f'[{", ".join(map(str, m.action_low))}] .. [{", ".join(map(str, m.action_high))}]',
        f'- nominal dt {m.nominal_dt} s (the policy does not read dt)',
        f'- parity with the original over {PARITY_STEPS} steps of random observations: max '
        f'|difference| {adopted.max_error:.2g} (tolerance {PARITY_TOLERANCE:g})',
        '',
        card_sha256_line(file_sha),
        '',
    ]
    card_path(adopted.path).write_text('\n'.join(lines))
