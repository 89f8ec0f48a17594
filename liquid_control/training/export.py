"""Export a Policy to an ONNX file that satisfies the model contract (runtime/contract.py).

What is exported is the policy's deployment form (training/deploy.py): the same function with
constants folded, about half the graph nodes of the module as trained.
Exporter: torch's TorchScript-based exporter (`dynamo=False`), opset 17, for every arch.
Measured with torch 2.13: it writes each weight once as a named initializer (the dynamo
exporter copies LTC weights into unnamed constants once per ODE unfold, a 6x larger file)
and a valid GRU graph (the dynamo exporter at opset 17 does not); step times in
onnxruntime are the same or better. The file is checked by loading it through the runtime.
"""
from __future__ import annotations

import hashlib
import subprocess
import warnings
from pathlib import Path

import onnx
import torch

from liquid_control.nets import count_params
from liquid_control.runtime import contract as c
from liquid_control.runtime import load_controller
from liquid_control.runtime.contract import ModelMetadata
from liquid_control.runtime.integrity import forget_records

from .deploy import deploy_form

OPSET = 17


def weights_sha256(module):
    """sha256 over the state_dict (name, dtype, shape, bytes), in sorted-name order."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f'{name}|{t.dtype}|{tuple(t.shape)}|'.encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def source_commit(repo_dir=None):
    """`git rev-parse HEAD` of the source tree, or 'unknown' outside a git checkout."""
    repo_dir = repo_dir or Path(__file__).resolve().parent
    try:
        out = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=repo_dir, capture_output=True,
                             text=True, timeout=10, check=True)
        return out.stdout.strip() or 'unknown'
    except (OSError, subprocess.SubprocessError):
        return 'unknown'


def metadata_for(policy, seed, commit=None):
    spec = policy.spec
    return ModelMetadata(
        arch=policy.arch, task=spec.name, obs_names=spec.obs_names,
        action_names=spec.action_names, action_low=spec.action_low,
        action_high=spec.action_high, nominal_dt=spec.nominal_dt,
        n_state=policy.state_size, seed=int(seed),
        source_commit=commit or source_commit(), weights_sha256=weights_sha256(policy),
        n_params=count_params(policy))


def export_policy(policy, path, seed=0, commit=None, fold=True):
    """Write `policy` to `path` as a contract ONNX model; return the loaded ControllerSession.

    fold=False exports the training module as it is (a larger, slower graph; for comparison).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    forget_records(path)
    policy = policy.eval()
    spec = policy.spec
    example = (torch.zeros(1, spec.n_obs), policy.initial_state(1),
               torch.full((1, 1), spec.nominal_dt))
    module = deploy_form(policy) if fold else policy
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # TorchScript tracer chatter about python scalars
        torch.onnx.export(module, example, str(path), dynamo=False, opset_version=OPSET,
                          input_names=list(c.INPUT_NAMES), output_names=list(c.OUTPUT_NAMES),
                          do_constant_folding=True)
    model = onnx.load(str(path))
    model.graph.name = f'{spec.name}_{policy.arch}'
    onnx.helper.set_model_props(model, metadata_for(policy, seed, commit).to_props())
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return load_controller(path)
