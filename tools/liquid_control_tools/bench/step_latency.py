"""Step latency per architecture: one control step at batch 1, as the control loop pays it.

Implementations, for each arch (cart-pole task, widths as shipped: 64 units, NCP 24):
  runtime   ControllerSession.step (validation, onnxruntime with IO binding, clipping) on the
            shipped model file when present, else an untrained export of the same graph
  ort       onnxruntime alone: run_with_iobinding on pre-bound buffers (no checks, the
            state alternating between two buffers as in the runtime), the same file: what
            the runtime's checks cost is the difference
  floor     the same binding and call on a graph with the model's inputs and outputs that
            computes nothing: onnxruntime's per-call floor
  torch     the torch Policy eagerly (as trained), torch.inference_mode, one thread
  torch_deploy  the same in its deployment form (training/deploy.py: constants folded, the
            module that is exported), eagerly: torch at its best on the same math
  numpy     (GRU only) the same GRU policy written out in numpy: the floor of a Python step

A step's cost does not depend on the weights' values, so the torch and numpy columns use an
untrained Policy of the same arch and width. The implementations are interleaved: every
round measures each of them for a block of steps, in a shuffled order, so load from other
processes falls on all alike; medians, p99 and ratios come from that one run. The speed-up
of the runtime over torch is taken against the faster of the two torch forms.
"""
from __future__ import annotations

import time

import numpy as np

from .common import ARCHS, percentiles

TASK = 'cartpole'


def _observations(n_obs, count, seed):
    return np.random.default_rng(seed).normal(0.0, 1.0, (count, n_obs)).astype(np.float32)


class RuntimeStepper:
    label = 'runtime'

    def __init__(self, path):
        from liquid_control.runtime import load_controller
        self.session = load_controller(path)
        self.dt = self.session.metadata.nominal_dt

    def reset(self):
        self.session.reset()

    def __call__(self, obs):
        self.session.step(obs, self.dt)


class OrtStepper:
    """onnxruntime only: the observation copied into a bound buffer, one
    run_with_iobinding; the state alternates between two bound buffers (no copy), as in the
    runtime."""
    label = 'ort'

    def __init__(self, path):
        from liquid_control.runtime.session import load_onnx_session, validate
        session = load_onnx_session(path)
        meta = validate(path, session)
        self._bind(session, meta.n_obs, meta.n_state, meta.n_act, meta.nominal_dt)

    def _bind(self, session, n_obs, n_state, n_act, dt):
        self.ort = session
        self.obs = np.zeros((1, n_obs), np.float32)
        self.states = (np.zeros((1, n_state), np.float32), np.zeros((1, n_state), np.float32))
        self.dt = np.full((1, 1), dt, np.float32)
        self.action = np.zeros((1, n_act), np.float32)
        self.bindings = []
        for read, write in ((0, 1), (1, 0)):
            binding = self.ort.io_binding()
            for name, buf in (('obs', self.obs), ('state', self.states[read]),
                              ('dt', self.dt)):
                binding.bind_input(name, 'cpu', 0, np.float32, buf.shape, buf.ctypes.data)
            for name, buf in (('action', self.action), ('state_out', self.states[write])):
                binding.bind_output(name, 'cpu', 0, np.float32, buf.shape, buf.ctypes.data)
            self.bindings.append(binding)
        self.current = 0

    def reset(self):
        self.states[self.current].fill(0.0)

    def __call__(self, obs):
        self.obs[0] = obs
        self.ort.run_with_iobinding(self.bindings[self.current])
        self.current ^= 1


class FloorStepper(OrtStepper):
    """The per-call floor: a graph with the model's inputs and outputs that computes nothing
    (state_out = state, action = the first observations), run exactly as OrtStepper runs
    the model. What onnxruntime costs per call whatever the network."""
    label = 'floor'

    def __init__(self, path):
        from liquid_control.runtime.session import load_onnx_session, validate
        meta = validate(path, load_onnx_session(path))
        data = trivial_graph(meta.n_obs, meta.n_state, meta.n_act)
        self._bind(load_onnx_session(path, data), meta.n_obs, meta.n_state, meta.n_act,
                   meta.nominal_dt)


def trivial_graph(n_obs, n_state, n_act):
    """Serialized ONNX model: the contract's inputs and outputs, no computation."""
    import onnx
    from onnx import TensorProto, helper

    def value(name, width):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, width])

    if n_act > n_obs:
        raise ValueError(f'a trivial graph takes its {n_act} actions from {n_obs} observations')
    ends = helper.make_tensor('floor_ends', TensorProto.INT64, [1], [n_act])
    starts = helper.make_tensor('floor_starts', TensorProto.INT64, [1], [0])
    axes = helper.make_tensor('floor_axes', TensorProto.INT64, [1], [1])
    graph = helper.make_graph(
        [helper.make_node('Slice', ['obs', 'floor_starts', 'floor_ends', 'floor_axes'],
                          ['action']),
         helper.make_node('Identity', ['state'], ['state_out'])],
        'per_call_floor',
        [value('obs', n_obs), value('state', n_state), value('dt', 1)],
        [value('action', n_act), value('state_out', n_state)],
        initializer=[starts, ends, axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    onnx.checker.check_model(model)
    return model.SerializeToString()


class TorchStepper:
    label = 'torch'

    def __init__(self, policy, module=None):
        import torch
        self.torch = torch
        self.initial_state = policy.initial_state
        self.policy = (module if module is not None else policy).eval()
        self.dt = torch.full((1, 1), policy.spec.nominal_dt)
        self.reset()

    def reset(self):
        self.state = self.initial_state(1)

    def __call__(self, obs):
        torch = self.torch
        with torch.inference_mode():
            _, self.state = self.policy(torch.from_numpy(obs)[None], self.state, self.dt)


class NumpyGRUStepper:
    """The GRU Policy's step in numpy (float32): normalise + angle embedding, GRUCell with dt
    as a feature, linear readout, tanh scaling. Checked against torch by `check_parity`."""
    label = 'numpy'

    def __init__(self, policy):
        p = {k: v.detach().numpy().astype(np.float32) for k, v in policy.state_dict().items()}
        self.plain = p['plain_idx'].astype(np.int64)
        self.angle = p['angle_idx'].astype(np.int64)
        self.mean, self.std = p['obs_mean'], p['obs_std']
        self.w_ih_t = np.ascontiguousarray(p['cell.cell.weight_ih'].T)
        self.w_hh_t = np.ascontiguousarray(p['cell.cell.weight_hh'].T)
        self.b_ih, self.b_hh = p['cell.cell.bias_ih'], p['cell.cell.bias_hh']
        self.w_out_t = np.ascontiguousarray(p['readout.weight'].T)
        self.b_out = p['readout.bias']
        self.mid, self.half = p['act_mid'], p['act_half']
        self.units = self.w_hh_t.shape[0]
        self.dt_feature = np.float32(1.0)   # dt / nominal_dt at the nominal rate
        self.reset()

    def reset(self):
        self.h = np.zeros(self.units, np.float32)

    def step(self, obs):
        u = self.units
        x = np.concatenate(((obs[self.plain] - self.mean) / self.std, np.sin(obs[self.angle]),
                            np.cos(obs[self.angle]), (self.dt_feature,)))
        gi = x @ self.w_ih_t + self.b_ih
        gh = self.h @ self.w_hh_t + self.b_hh
        r = 1.0 / (1.0 + np.exp(-(gi[:u] + gh[:u])))
        z = 1.0 / (1.0 + np.exp(-(gi[u:2 * u] + gh[u:2 * u])))
        n = np.tanh(gi[2 * u:] + r * gh[2 * u:])
        self.h = (1.0 - z) * n + z * self.h
        return self.mid + self.half * np.tanh(self.h @ self.w_out_t + self.b_out)

    __call__ = step


def check_parity(policy, stepper, steps=20, seed=1):
    """Largest |numpy - torch| action difference over a few steps (should be ~1e-6)."""
    import torch
    obs = _observations(policy.spec.n_obs, steps, seed)
    state = policy.initial_state(1)
    dt = torch.full((1, 1), policy.spec.nominal_dt)
    stepper.reset()
    worst = 0.0
    with torch.inference_mode():
        for o in obs:
            action, state = policy(torch.from_numpy(o)[None], state, dt)
            worst = max(worst, float(np.abs(stepper.step(o) - action.numpy()[0]).max()))
    stepper.reset()
    return worst


def _time_block(stepper, observations, warmup):
    clock = time.perf_counter_ns
    out = np.empty(len(observations) - warmup)
    stepper.reset()
    for i in range(warmup):
        stepper(observations[i])
    for i in range(warmup, len(observations)):
        start = clock()
        stepper(observations[i])
        out[i - warmup] = clock() - start
    return out / 1e3


def run(ctx):
    import torch

    from liquid_control.nets import count_params
    from liquid_control.tasks import get_task
    from liquid_control.training.deploy import deploy_form

    from .common import untrained_policy

    rounds, block, warmup = (3, 150, 20) if ctx.quick else (24, 600, 50)
    spec = get_task(TASK)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        steppers, info = {}, {}
        for arch in ARCHS:
            path, source = ctx.model(TASK, arch)
            policy = untrained_policy(spec, arch)
            steppers[(arch, 'runtime')] = RuntimeStepper(path)
            steppers[(arch, 'ort')] = OrtStepper(path)
            steppers[(arch, 'floor')] = FloorStepper(path)
            steppers[(arch, 'torch')] = TorchStepper(policy)
            steppers[(arch, 'torch_deploy')] = TorchStepper(policy, deploy_form(policy))
            info[arch] = {'model': str(path), 'model_source': source,
                          'n_params': count_params(policy),
                          'n_state': steppers[(arch, 'runtime')].session.metadata.n_state}
            if arch == 'gru':
                steppers[(arch, 'numpy')] = NumpyGRUStepper(policy)
                info[arch]['numpy_max_abs_diff'] = check_parity(policy,
                                                                steppers[(arch, 'numpy')])
        ctx.log(f'step latency: {rounds} rounds x {block} steps per implementation, '
                f'{len(steppers)} implementations interleaved')
        samples = {key: [] for key in steppers}
        rng = np.random.default_rng(0)
        observations = _observations(spec.n_obs, block + warmup, 0)
        keys = list(steppers)
        for _ in range(rounds):
            for i in rng.permutation(len(keys)):
                key = keys[i]
                samples[key].append(_time_block(steppers[key], observations, warmup))
    finally:
        torch.set_num_threads(threads)

    archs = {}
    for arch in ARCHS:
        row = dict(info[arch])
        for impl in ('runtime', 'ort', 'floor', 'torch', 'torch_deploy', 'numpy'):
            if (arch, impl) not in samples:
                continue
            blocks = samples[(arch, impl)]
            all_us = np.concatenate(blocks)
            row[impl] = dict(percentiles(all_us), mean=float(all_us.mean()),
                             round_medians=[float(np.median(b)) for b in blocks])
        best_torch = min(('torch', 'torch_deploy'), key=lambda k: row[k]['p50'])
        row['torch_best'] = best_torch
        per_round = (np.array(row[best_torch]['round_medians'])
                     / np.array(row['runtime']['round_medians']))
        row['speedup_vs_torch'] = row[best_torch]['p50'] / row['runtime']['p50']
        row['speedup_round_min'] = float(per_round.min())
        row['speedup_round_max'] = float(per_round.max())
        # In the same run: what the runtime's checks add to onnxruntime alone, and what the
        # network adds to the per-call floor.
        row['checks_us'] = row['runtime']['p50'] - row['ort']['p50']
        row['network_us'] = row['ort']['p50'] - row['floor']['p50']
        archs[arch] = row
        ctx.log(f'  {arch}: runtime p50 {row["runtime"]["p50"]:.1f} us p99 '
                f'{row["runtime"]["p99"]:.1f} us; torch p50 {row["torch"]["p50"]:.1f} us, '
                f'deploy form {row["torch_deploy"]["p50"]:.1f} us '
                f'({row["speedup_vs_torch"]:.1f}x)'
                + (f'; numpy p50 {row["numpy"]["p50"]:.1f} us' if 'numpy' in row else ''))
    return {'task': TASK, 'rounds': rounds, 'block': block, 'warmup': warmup,
            'torch_threads': 1, 'archs': archs}
