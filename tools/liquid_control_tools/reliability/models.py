"""Model files the reliability runs use (needs the `onnx` package: test and bench only).

- `probe_model`: a small contract-valid recurrent controller for a task (its obs/action names
  and limits), built from ONNX primitives with seeded weights: a stand-in when no shipped
  model exists. Observations are normalised inside the graph as in a trained model, so huge
  inputs overflow to inf/NaN inside the graph exactly as they would in a real one.
- `echo_model`: a copy of any controller whose action i is its observation i (clipped by
  the node like any action). The whole original graph still runs every step and its action
  is added at a weight of 1e-30: a non-finite output of the original still makes the echo
  non-finite (the runtime rejects it), while for finite outputs the command reads back the
  observation it was computed from. The fuzz runs use it to see that the node controls on
  the newest good message, not on an older one or a rejected one.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def probe_model(path, task='cartpole', n_hidden=16, seed=0):
    """Write a contract-valid recurrent model for `task` to `path`; return the path."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from liquid_control.runtime.contract import ModelMetadata
    from liquid_control.tasks import get_task

    spec = get_task(task)
    n_obs, n_act = spec.n_obs, spec.n_act
    rng = np.random.default_rng(seed)
    weights = {
        'mean': rng.normal(0, 0.1, (1, n_obs)),
        'inv_std': rng.uniform(0.5, 2.0, (1, n_obs)),
        'w': rng.normal(0, 1 / np.sqrt(n_obs), (n_obs, n_hidden)),
        'u': rng.normal(0, 1 / np.sqrt(n_hidden), (n_hidden, n_hidden)),
        'tau': rng.uniform(1.0, 5.0, (1, n_hidden)),
        'v': rng.normal(0, 1 / np.sqrt(n_hidden), (n_hidden, n_act)),
        'half_range': (np.array(spec.action_high) - np.array(spec.action_low))[None] / 2,
        'centre': (np.array(spec.action_high) + np.array(spec.action_low))[None] / 2,
    }
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()]
    n = helper.make_node
    # A leaky continuous-time cell: h' = h + dt * tau * (tanh(x W + h U) - h).
    nodes = [
        n('Sub', ['obs', 'mean'], ['centred']), n('Mul', ['centred', 'inv_std'], ['x']),
        n('MatMul', ['x', 'w'], ['xw']), n('MatMul', ['state', 'u'], ['hu']),
        n('Add', ['xw', 'hu'], ['pre']), n('Tanh', ['pre'], ['target']),
        n('Sub', ['target', 'state'], ['delta']), n('Mul', ['delta', 'tau'], ['rate']),
        n('Mul', ['rate', 'dt'], ['step']), n('Add', ['state', 'step'], ['h_new']),
        n('Identity', ['h_new'], ['state_out']),
        n('MatMul', ['h_new', 'v'], ['out']), n('Tanh', ['out'], ['squashed']),
        n('Mul', ['squashed', 'half_range'], ['scaled']),
        n('Add', ['scaled', 'centre'], ['action']),
    ]
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, f'{task}_probe',
        [helper.make_tensor_value_info('obs', f32, [1, n_obs]),
         helper.make_tensor_value_info('state', f32, [1, n_hidden]),
         helper.make_tensor_value_info('dt', f32, [1, 1])],
        [helper.make_tensor_value_info('action', f32, [1, n_act]),
         helper.make_tensor_value_info('state_out', f32, [1, n_hidden])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    digest = hashlib.sha256(b''.join(i.raw_data for i in inits)).hexdigest()
    meta = ModelMetadata(
        arch='cfc', task=task, obs_names=spec.obs_names, action_names=spec.action_names,
        action_low=spec.action_low, action_high=spec.action_high, nominal_dt=spec.nominal_dt,
        n_state=n_hidden, seed=seed, source_commit='reliability-probe', weights_sha256=digest)
    for key, value in meta.to_props().items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def echo_model(src, dst):
    """Write a copy of model `src` whose action i is obs i (see the module docstring)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    n_act = graph.output[[o.name for o in graph.output].index('action')] \
        .type.tensor_type.shape.dim[1].dim_value
    for node in graph.node:
        node.output[:] = ['echo_model_action' if o == 'action' else o for o in node.output]
    graph.initializer.extend([
        numpy_helper.from_array(np.array([0], np.int64), 'echo_start'),
        numpy_helper.from_array(np.array([n_act], np.int64), 'echo_end'),
        numpy_helper.from_array(np.array([1], np.int64), 'echo_axis'),
        numpy_helper.from_array(np.array(1e-30, np.float32), 'echo_tiny'),
    ])
    graph.node.extend([
        helper.make_node('Slice', ['obs', 'echo_start', 'echo_end', 'echo_axis'], ['echo_obs']),
        helper.make_node('Mul', ['echo_model_action', 'echo_tiny'], ['echo_small']),
        helper.make_node('Add', ['echo_obs', 'echo_small'], ['action']),
    ])
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))
    return dst
