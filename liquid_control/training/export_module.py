"""Export any torch module with the controller step signature to a contract ONNX file.

    action, state = module(obs [1, n_obs], state [1, n_state], dt [1, 1])

(an ncps CfC/LTC/NCP cell with a readout, a GRU or an LSTM cell behind a small wrapper, ...).
The module must do its own observation normalisation and action scaling, as the contract
wants the file to be the whole controller; the runtime clips actions to the limits.

The file is kept only if it steps like the module: over PARITY_STEPS random observations at
irregular dt, with the state carried along, the actions (clipped to the limits) and states
agree to `tolerance`. It is written under a temporary name and renamed then, so a failed
export leaves nothing, and a model card with the parity figure and sha256 goes beside it.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from liquid_control.nets import count_params
from liquid_control.runtime import contract as c
from liquid_control.runtime import load_controller
from liquid_control.runtime.contract import ModelContractError, ModelMetadata
from liquid_control.runtime.integrity import card_path, card_sha256_line, forget_records

from .export import OPSET, source_commit, weights_sha256

PARITY_TOLERANCE = 1e-5
PARITY_STEPS = 200


class ExportError(ValueError):
    """The module cannot be exported as a controller; the message says why."""


def export_module(module, *, obs_names, action_names, low, high, nominal_dt, path, n_state,
                  arch='custom', task='custom', seed=0, tolerance=PARITY_TOLERANCE):
    """Export `module` to `path`; return the loaded ControllerSession."""
    path = Path(path)
    metadata = _metadata(module, obs_names, action_names, low, high, nominal_dt, n_state, arch,
                         task, seed, path)
    module = module.eval()
    example = (torch.zeros(1, metadata.n_obs), torch.zeros(1, metadata.n_state),
               torch.full((1, 1), metadata.nominal_dt))
    try:
        with torch.no_grad():
            action, state = module(*example)
    except Exception as exc:
        raise ExportError(f'the module does not take (obs [1, {metadata.n_obs}], state '
                          f'[1, {metadata.n_state}], dt [1, 1]): {type(exc).__name__}: '
                          f'{exc}') from None
    if tuple(action.shape) != (1, metadata.n_act) or tuple(state.shape) != (1, n_state):
        raise ExportError(f'the module returned action {list(action.shape)} and state '
                          f'{list(state.shape)}; expected [1, {metadata.n_act}] and '
                          f'[1, {n_state}]')
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'.{path.name}.exporting')
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter('ignore')  # TorchScript tracer chatter
            torch.onnx.export(module, example, str(tmp), dynamo=False, opset_version=OPSET,
                              input_names=list(c.INPUT_NAMES),
                              output_names=list(c.OUTPUT_NAMES), do_constant_folding=True)
        model = onnx.load(str(tmp))
        model.graph.name = f'{task}_{arch}'
        _keep_unused_inputs(model, metadata)
        onnx.helper.set_model_props(model, metadata.to_props())
        onnx.checker.check_model(model)
        onnx.save(model, str(tmp))
        worst = parity(module, tmp, metadata, seed, tolerance)
        forget_records(path)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _write_card(path, module, metadata, worst)
    return load_controller(path, require_recorded_sha256=True)


def _keep_unused_inputs(model, metadata):
    """The exporter drops inputs the module never reads (dt, for a module that ignores time;
    the state of a stateless one); the contract wants all three, in order."""
    declared = {i.name for i in model.graph.input}
    widths = {c.INPUT_OBS: metadata.n_obs, c.INPUT_STATE: metadata.n_state, c.INPUT_DT: 1}
    inputs = [next(i for i in model.graph.input if i.name == name) if name in declared else
              onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT,
                                                 [1, widths[name]])
              for name in c.INPUT_NAMES]
    rest = [i for i in model.graph.input if i.name not in widths]
    del model.graph.input[:]
    model.graph.input.extend(inputs + rest)


def _metadata(module, obs_names, action_names, low, high, nominal_dt, n_state, arch, task,
              seed, path):
    """The contract metadata, checked by the contract's own parser (its messages)."""
    try:
        n_state = int(n_state)
        metadata = ModelMetadata(
            arch=str(arch), task=str(task), obs_names=tuple(obs_names),
            action_names=tuple(action_names), action_low=tuple(float(v) for v in low),
            action_high=tuple(float(v) for v in high), nominal_dt=float(nominal_dt),
            n_state=n_state, seed=int(seed), source_commit=source_commit(),
            weights_sha256=weights_sha256(module), n_params=count_params(module))
        return ModelMetadata.from_props(metadata.to_props(), path)
    except ModelContractError as exc:
        raise ExportError(exc.problem) from None
    except (TypeError, ValueError) as exc:
        raise ExportError(f'bad export arguments: {exc}') from None


def parity(module, onnx_path, metadata, seed=0, tolerance=PARITY_TOLERANCE,
           steps=PARITY_STEPS):
    """Largest difference between the module and the file over `steps` steps of random
    observations at dt in [0.5, 1.5] x nominal; ExportError above `tolerance`."""
    try:
        session = load_controller(onnx_path)
    except ModelContractError as exc:
        raise ExportError(f'the exported file does not load: {exc.problem}') from None
    rng = np.random.default_rng(seed)
    low, high = np.asarray(metadata.action_low), np.asarray(metadata.action_high)
    state = torch.zeros(1, metadata.n_state)
    worst = 0.0
    for _ in range(steps):
        obs = rng.standard_normal(metadata.n_obs).astype(np.float32)
        dt = float(metadata.nominal_dt * rng.uniform(0.5, 1.5))
        with torch.no_grad():
            action, state = module(torch.from_numpy(obs)[None], state,
                                   torch.tensor([[dt]], dtype=torch.float32))
        got = session.step(obs, dt)
        expected = np.clip(action.numpy()[0], low, high)
        worst = max(worst, float(np.max(np.abs(got - expected), initial=0.0)),
                    float(np.max(np.abs(session.state - state.numpy()[0]), initial=0.0)))
    if not worst <= tolerance:
        raise ExportError(f'the exported file differs from the module by {worst:.3g} '
                          f'(> {tolerance:g}) over {steps} steps: an operation did not '
                          'export faithfully (random numbers, Python-side state, ...); '
                          'nothing was written')
    return worst


def _write_card(path, module, metadata, worst):
    m = metadata
    file_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    lines = [
        f'# {path.stem}',
        '',
        f'- exported from a torch `{type(module).__name__}` with liquid_control.export; arch '
        f'`{m.arch}`, {m.n_params} trainable parameters, state size {m.n_state}',
        f'- observations {", ".join(m.obs_names)}; actions {", ".join(m.action_names)} in '
        f'[{", ".join(map(str, m.action_low))}] .. [{", ".join(map(str, m.action_high))}]; '
        f'nominal dt {m.nominal_dt} s',
        f'- parity with the module over {PARITY_STEPS} steps (random observations, dt 0.5-1.5 x '
        f'nominal, state carried): max |difference| {worst:.2g}',
        f'- seed {m.seed}; source commit `{m.source_commit}`; weights sha256 '
        f'`{m.weights_sha256}`',
        '',
        card_sha256_line(file_sha),
        '',
    ]
    card_path(path).write_text('\n'.join(lines))
