"""Wrap an ONNX policy trained elsewhere into the model contract, without re-training.

The original graph is embedded unchanged (its names prefixed) between a few nodes:

    obs [1, n_obs] -> (obs - obs_offset) * obs_scale -> reshaped to the policy's input
    state [1, n_state] -> sliced into the policy's state inputs (reshaped to their shapes)
    policy's action output -> * action_scale + action_offset -> clipped to the limits -> action
    policy's state outputs -> flattened and concatenated -> state_out
    dt [1, 1]: an input the contract requires; an outside policy does not read it

Symbolic dimensions of the policy's inputs (a batch) are taken as 1.
"""
from __future__ import annotations

import math

import numpy as np

from .spec import AdoptError

PREFIX = 'policy/'
MIN_OPSET = 11                     # Slice and Reshape with tensor inputs


def require_onnx():
    try:
        import onnx
    except ModuleNotFoundError:
        raise AdoptError('adopting a policy needs the onnx package (pip install onnx; it is in '
                         "the project's train requirements)") from None
    return onnx


class PolicyInterface:
    """The original policy's inputs and outputs, resolved against an AdoptSpec."""

    def __init__(self, model, spec, source):
        onnx = require_onnx()
        graph = model.graph
        initializers = {i.name for i in graph.initializer}
        self.inputs = {v.name: v for v in graph.input if v.name not in initializers}
        self.outputs = {v.name: v for v in graph.output}
        state_in = [i for i, _ in spec.state]
        state_out = [o for _, o in spec.state]
        for name in state_in:
            if name not in self.inputs:
                raise AdoptError(f'{source}: state input {name!r} is not an input of the '
                                 f'policy (inputs: {", ".join(self.inputs)})')
        for name in state_out:
            if name not in self.outputs:
                raise AdoptError(f'{source}: state output {name!r} is not an output of the '
                                 f'policy (outputs: {", ".join(self.outputs)})')
        self.obs_input = _the_one(spec.obs_input, self.inputs, state_in, 'input', 'obs_input',
                                  source)
        self.action_output = _the_one(spec.action_output, self.outputs, state_out, 'output',
                                      'action_output', source)
        extra = sorted(set(self.inputs) - set(state_in) - {self.obs_input})
        if extra:
            raise AdoptError(f'{source}: the policy has input(s) {", ".join(extra)} that are '
                             'neither the observation nor a state input')
        for value in [*self.inputs.values(), *self.outputs.values()]:
            elem = value.type.tensor_type.elem_type
            if elem != onnx.TensorProto.FLOAT:
                raise AdoptError(f'{source}: {value.name!r} is '
                                 f'{onnx.TensorProto.DataType.Name(elem).lower()}, only float32 '
                                 'inputs and outputs can be adopted')
        self.obs_shape = _shape(self.inputs[self.obs_input], source)
        self.action_shape = _shape(self.outputs[self.action_output], source)
        _check_width(self.obs_input, self.obs_shape, len(spec.obs_names), 'obs_names', source)
        _check_width(self.action_output, self.action_shape, len(spec.action_names),
                     'action_names', source)
        self.state_shapes = []
        for i, o in spec.state:
            shape_in = _shape(self.inputs[i], source)
            shape_out = _shape(self.outputs[o], source)
            if math.prod(shape_in) != math.prod(shape_out):
                raise AdoptError(f'{source}: state input {i!r} {shape_in} and output {o!r} '
                                 f'{shape_out} differ in size')
            self.state_shapes.append((shape_in, shape_out))

    @property
    def n_state(self):
        return sum(math.prod(shape_in) for shape_in, _ in self.state_shapes)


def _the_one(given, named, excluded, kind, option, source):
    candidates = [n for n in named if n not in excluded]
    if given:
        if given not in named:
            raise AdoptError(f'{source}: {option} {given!r} is not an {kind} of the policy '
                             f'({kind}s: {", ".join(named)})')
        return given
    if len(candidates) != 1:
        hint = ' (and its recurrent state with state IN:OUT pairs)' if kind == 'input' else ''
        raise AdoptError(f'{source}: the policy has {len(candidates)} non-state {kind}s '
                         f'({", ".join(candidates) or "none"}): name the one to use with '
                         f'{option}{hint}')
    return candidates[0]


def _shape(value, source):
    dims = value.type.tensor_type.shape.dim
    if not value.type.tensor_type.HasField('shape'):
        raise AdoptError(f'{source}: {value.name!r} has no declared shape')
    shape = []
    for d in dims:
        if d.HasField('dim_value'):
            if d.dim_value < 1:
                raise AdoptError(f'{source}: {value.name!r} has an empty dimension')
            shape.append(int(d.dim_value))
        else:
            shape.append(1)                # a symbolic (batch) dimension
    return tuple(shape)


def _check_width(name, shape, expected, names_key, source):
    if math.prod(shape) != expected or (shape and shape[-1] != expected):
        raise AdoptError(f'{source}: {name!r} has shape {list(shape)} (batch dimensions as 1): '
                         f'{names_key} lists {expected}; they must match')


def wrap(model, spec, interface):
    """The contract-shaped model around `model` (an onnx.ModelProto)."""
    onnx = require_onnx()
    from onnx import TensorProto, helper, numpy_helper
    from onnx.compose import add_prefix

    opset = next((o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')), 0)
    if opset < MIN_OPSET:
        raise AdoptError(f'the policy uses opset {opset}; export it with opset {MIN_OPSET} or '
                         'newer')
    inner = add_prefix(model, PREFIX)
    nodes, inits = [], list(inner.graph.initializer)

    def const(name, values, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), PREFIX[:-1] +
                                             '_wrap/' + name))
        return inits[-1].name

    def node(op, inputs, output, **attrs):
        name = f'wrap/{output}'
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    n_obs, n_act = len(spec.obs_names), len(spec.action_names)
    x = 'obs'
    if any(spec.obs_offset):
        x = node('Sub', [x, const('obs_offset', [spec.obs_offset])], 'obs_centred')
    if any(v != 1.0 for v in spec.obs_scale):
        x = node('Mul', [x, const('obs_scale', [spec.obs_scale])], 'obs_scaled')
    nodes.append(helper.make_node('Reshape', [x, const('obs_shape', interface.obs_shape,
                                                        np.int64)],
                                  [PREFIX + interface.obs_input], name='wrap/obs_reshape'))
    offset = 0
    for (name_in, _), (shape_in, _) in zip(spec.state, interface.state_shapes):
        size = math.prod(shape_in)
        part = node('Slice', ['state', const(f'{name_in}_start', [offset], np.int64),
                              const(f'{name_in}_end', [offset + size], np.int64),
                              const(f'{name_in}_axis', [1], np.int64)], f'{name_in}_flat')
        nodes.append(helper.make_node('Reshape', [part, const(f'{name_in}_shape', shape_in,
                                                               np.int64)],
                                      [PREFIX + name_in], name=f'wrap/{name_in}_reshape'))
        offset += size
    nodes.extend(inner.graph.node)
    a = node('Reshape', [PREFIX + interface.action_output,
                         const('action_shape', [1, n_act], np.int64)], 'action_raw')
    if any(v != 1.0 for v in spec.action_scale):
        a = node('Mul', [a, const('action_scale', [spec.action_scale])], 'action_scaled')
    if any(spec.action_offset):
        a = node('Add', [a, const('action_offset', [spec.action_offset])], 'action_shifted')
    a = node('Max', [a, const('action_low', [spec.action_low])], 'action_above_low')
    nodes.append(helper.make_node('Min', [a, const('action_high', [spec.action_high])],
                                  ['action'], name='wrap/action'))
    if spec.state:
        parts = [node('Reshape', [PREFIX + name_out,
                                  const(f'{name_out}_flat_shape', [1, -1], np.int64)],
                      f'{name_out}_flat') for _, name_out in spec.state]
        nodes.append(helper.make_node('Concat', parts, ['state_out'], name='wrap/state_out',
                                      axis=1))
    else:
        nodes.append(helper.make_node('Identity', ['state'], ['state_out'],
                                      name='wrap/state_out'))
    n_state = interface.n_state
    graph = helper.make_graph(
        nodes, f'adopted_{model.graph.name or "policy"}',
        [helper.make_tensor_value_info('obs', TensorProto.FLOAT, [1, n_obs]),
         helper.make_tensor_value_info('state', TensorProto.FLOAT, [1, n_state]),
         helper.make_tensor_value_info('dt', TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info('action', TensorProto.FLOAT, [1, n_act]),
         helper.make_tensor_value_info('state_out', TensorProto.FLOAT, [1, n_state])],
        inits, value_info=list(inner.graph.value_info))
    wrapped = helper.make_model(graph, opset_imports=list(model.opset_import),
                                producer_name='liquid_control.adopt',
                                ir_version=model.ir_version)
    for function in model.functions:
        wrapped.functions.append(function)
    onnx.checker.check_model(wrapped)
    return wrapped
