"""Contract-shaped ONNX models built from primitive ops, each with a numpy reference.

Used by tests to get valid (and deliberately invalid) controllers without torch or training:
a GRU cell and a CfC cell (the closed-form continuous-time update of Hasani et al. 2022, as
in ncps' CfCCell without backbone), with observation normalisation and tanh action scaling
inside the graph as the contract requires.
"""
from __future__ import annotations

import hashlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from liquid_control.runtime import contract as c
from liquid_control.runtime.contract import ModelMetadata


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class ReferenceCell:
    """Weights and a float64 numpy step for one model built by `build_model`."""

    def __init__(self, cell, n_obs, n_hidden, n_act, seed):
        rng = np.random.default_rng(seed)
        self.cell, self.n_obs, self.n_hidden, self.n_act = cell, n_obs, n_hidden, n_act
        self.mean = rng.normal(0, 1, n_obs).astype(np.float32)
        self.std = rng.uniform(0.5, 2.0, n_obs).astype(np.float32)
        n_in = n_obs + 1 if cell == 'gru' else n_obs + n_hidden  # GRU sees dt as a feature
        scale = 1.0 / np.sqrt(n_in)
        gates = ('r', 'z', 'n') if cell == 'gru' else ('ff1', 'ff2', 'ta', 'tb')
        self.w = {g: rng.normal(0, scale, (n_in, n_hidden)).astype(np.float32) for g in gates}
        self.b = {g: rng.normal(0, 0.1, n_hidden).astype(np.float32) for g in gates}
        if cell == 'gru':
            hs = 1.0 / np.sqrt(n_hidden)
            self.u = {g: rng.normal(0, hs, (n_hidden, n_hidden)).astype(np.float32)
                      for g in gates}
        self.w_out = rng.normal(0, 1.0 / np.sqrt(n_hidden), (n_hidden, n_act)).astype(np.float32)
        self.b_out = rng.normal(0, 0.1, n_act).astype(np.float32)
        self.act_high = np.linspace(1.0, 10.0, n_act).astype(np.float32)

    def step(self, obs, h, dt):
        """Float64 reference: returns (action, new_h)."""
        x = (np.asarray(obs, np.float64) - self.mean) / self.std
        w = {k: v.astype(np.float64) for k, v in self.w.items()}
        b = {k: v.astype(np.float64) for k, v in self.b.items()}
        if self.cell == 'gru':
            u = {k: v.astype(np.float64) for k, v in self.u.items()}
            xin = np.concatenate([x, [dt]])
            r = _sigmoid(xin @ w['r'] + b['r'] + h @ u['r'])
            z = _sigmoid(xin @ w['z'] + b['z'] + h @ u['z'])
            n = np.tanh(xin @ w['n'] + b['n'] + r * (h @ u['n']))
            h_new = (1 - z) * n + z * h
        else:
            xin = np.concatenate([x, h])
            ff1 = np.tanh(xin @ w['ff1'] + b['ff1'])
            ff2 = np.tanh(xin @ w['ff2'] + b['ff2'])
            t = _sigmoid((xin @ w['ta'] + b['ta']) * dt + (xin @ w['tb'] + b['tb']))
            h_new = ff1 * (1 - t) + t * ff2
        action = np.tanh(h_new @ self.w_out + self.b_out) * self.act_high
        return action, h_new


def _init(name, array):
    return numpy_helper.from_array(np.asarray(array, np.float32), name)


def _graph_nodes(ref):
    """Nodes and initializers computing action/state_out from obs/state/dt (float32)."""
    inits = [_init('mean', ref.mean[None]), _init('std', ref.std[None]),
             _init('w_out', ref.w_out), _init('b_out', ref.b_out[None]),
             _init('act_high', ref.act_high[None]), _init('one', np.ones((1, 1)))]
    for g in ref.w:
        inits += [_init(f'w_{g}', ref.w[g]), _init(f'b_{g}', ref.b[g][None])]
    n = helper.make_node
    nodes = [n('Sub', ['obs', 'mean'], ['centred']), n('Div', ['centred', 'std'], ['x'])]

    def affine(gate, src):
        nodes.extend([n('MatMul', [src, f'w_{gate}'], [f'{gate}_mm']),
                      n('Add', [f'{gate}_mm', f'b_{gate}'], [f'{gate}_lin'])])
        return f'{gate}_lin'

    if ref.cell == 'gru':
        for g in ref.u:
            inits.append(_init(f'u_{g}', ref.u[g]))
        nodes.append(n('Concat', ['x', 'dt_f'], ['xin'], axis=1))
        for g in ('r', 'z'):
            lin = affine(g, 'xin')
            nodes += [n('MatMul', ['state', f'u_{g}'], [f'{g}_hh']),
                      n('Add', [lin, f'{g}_hh'], [f'{g}_pre']),
                      n('Sigmoid', [f'{g}_pre'], [g])]
        lin = affine('n', 'xin')
        nodes += [n('MatMul', ['state', 'u_n'], ['n_hh']), n('Mul', ['r', 'n_hh'], ['rn']),
                  n('Add', [lin, 'rn'], ['n_pre']), n('Tanh', ['n_pre'], ['n']),
                  n('Sub', ['one', 'z'], ['one_minus_z']), n('Mul', ['one_minus_z', 'n'], ['a']),
                  n('Mul', ['z', 'state'], ['bz']), n('Add', ['a', 'bz'], ['h_new'])]
    else:
        nodes.append(n('Concat', ['x', 'state'], ['xin'], axis=1))
        nodes += [n('Tanh', [affine('ff1', 'xin')], ['ff1']),
                  n('Tanh', [affine('ff2', 'xin')], ['ff2']),
                  n('Mul', [affine('ta', 'xin'), 'dt_f'], ['ta_dt']),
                  n('Add', ['ta_dt', affine('tb', 'xin')], ['t_pre']),
                  n('Sigmoid', ['t_pre'], ['t']),
                  n('Sub', ['one', 't'], ['one_minus_t']),
                  n('Mul', ['ff1', 'one_minus_t'], ['a']), n('Mul', ['t', 'ff2'], ['bt']),
                  n('Add', ['a', 'bt'], ['h_new'])]
    nodes += [n('Identity', ['h_new'], ['state_out']),
              n('MatMul', ['h_new', 'w_out'], ['out_mm']), n('Add', ['out_mm', 'b_out'], ['out']),
              n('Tanh', ['out'], ['out_t']), n('Mul', ['out_t', 'act_high'], ['action'])]
    return nodes, inits


def default_metadata(ref, task='cartpole', **overrides):
    fields = dict(
        arch=ref.cell, task=task,
        obs_names=tuple(f'obs_{i}' for i in range(ref.n_obs)),
        action_names=tuple(f'act_{i}' for i in range(ref.n_act)),
        action_low=tuple(-float(v) for v in ref.act_high),
        action_high=tuple(float(v) for v in ref.act_high),
        nominal_dt=0.02, n_state=ref.n_hidden, seed=0, source_commit='test',
        weights_sha256=hashlib.sha256(ref.w_out.tobytes()).hexdigest(),
    )
    fields.update(overrides)
    return ModelMetadata(**fields)


def build_model(path, cell='gru', n_obs=4, n_hidden=8, n_act=1, seed=0, metadata=None,
                props_override=None, input_names=None, dt_dtype=TensorProto.FLOAT, batch=1):
    """Write a contract-shaped model to `path`; return its ReferenceCell.

    The keyword arguments after `seed` exist to build invalid models: `props_override` sets
    (or, with None, deletes) metadata strings; `input_names` renames the graph inputs;
    `dt_dtype` declares dt with another element type; `batch` declares another batch size.
    """
    ref = ReferenceCell(cell, n_obs, n_hidden, n_act, seed)
    nodes, inits = _graph_nodes(ref)
    if dt_dtype == TensorProto.FLOAT:
        nodes.insert(0, helper.make_node('Identity', ['dt'], ['dt_f']))
    else:
        nodes.insert(0, helper.make_node('Cast', ['dt'], ['dt_f'], to=TensorProto.FLOAT))
    names = dict(zip(c.INPUT_NAMES, input_names or c.INPUT_NAMES))
    if input_names:
        for node in nodes:
            node.input[:] = [names.get(i, i) for i in node.input]
    inputs = [helper.make_tensor_value_info(names['obs'], TensorProto.FLOAT, [batch, n_obs]),
              helper.make_tensor_value_info(names['state'], TensorProto.FLOAT,
                                            [batch, n_hidden]),
              helper.make_tensor_value_info(names['dt'], dt_dtype, [batch, 1])]
    outputs = [helper.make_tensor_value_info('action', TensorProto.FLOAT, [batch, n_act]),
               helper.make_tensor_value_info('state_out', TensorProto.FLOAT, [batch, n_hidden])]
    graph = helper.make_graph(nodes, f'{cell}_test', inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)],
                              producer_name='liquid_control.test')
    model.ir_version = 8
    props = (metadata or default_metadata(ref)).to_props()
    for key, value in (props_override or {}).items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return ref
