"""Deployment forms of a trained Policy: the same function, arranged for a fast ONNX graph.

A control step at batch 1 costs onnxruntime roughly a fixed price per graph node, so the
forms below fold everything that is constant after training into the weights:
- observation normalisation into the first layer (features are affine in
  z = [obs, sin(angles), cos(angles)], so Linear(features) = Linear'(z));
- the dt / nominal_dt scaling into the weights that multiply time;
- wiring masks into the weights they mask (NCP, LTC);
- CfC's four input projections (ff1, ff2, time_a, time_b) into one matrix multiply, and
  likewise the GRU's and the LSTM's gates;
- LTC's synapse constants (sigma*mu, w*mask, w*mask*erev) into tables, laid out so the sums
  over presynaptic neurons run along the contiguous axis.
The LTC keeps its solver steps and the NCP its layer structure; only constants move. Export
checks each form against the Policy it came from (test_export.py: <= 1e-5 over 500
irregular steps).
"""
from __future__ import annotations

import torch
from torch import nn


def _const(module, name, value):
    module.register_buffer(name, value.detach().clone().float().contiguous())


class _Front(nn.Module):
    """z = [obs, sin(obs), cos(obs)] (or obs when no observation is an angle) and the affine
    map features = z M + c. Sin/cos of every observation is cheaper in the graph than
    gathering the angle columns first; rows of M for non-angle sin/cos are zero."""

    def __init__(self, policy):
        super().__init__()
        n_obs = policy.spec.n_obs
        plain, angle = policy.plain_idx.tolist(), policy.angle_idx.tolist()
        self.has_angles = bool(angle)
        n_z = 3 * n_obs if angle else n_obs
        m = torch.zeros(n_z, policy.n_features)
        c = torch.zeros(policy.n_features)
        for f, k in enumerate(plain):
            m[k, f] = 1.0 / policy.obs_std[f]
            c[f] = -policy.obs_mean[f] / policy.obs_std[f]
        for i, k in enumerate(angle):  # features: [plain..., sin(angles)..., cos(angles)...]
            m[n_obs + k, len(plain) + i] = 1.0
            m[2 * n_obs + k, len(plain) + len(angle) + i] = 1.0
        self.m, self.c = m, c  # plain attributes: only used while folding

    def parts(self, obs):
        """The pieces of z, to be concatenated with whatever else the first layer takes."""
        return [obs, torch.sin(obs), torch.cos(obs)] if self.has_angles else [obs]

    def z(self, obs):
        parts = self.parts(obs)
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]

    def fold_linear(self, weight, bias):
        """Weight/bias of a Linear on features -> the same Linear on z."""
        return weight @ self.m.T, bias + weight @ self.c


class _Readout(nn.Module):
    """action = mid + half * tanh(y W^T + b), with an elementwise affine on y folded in."""

    def __init__(self, policy, y_scale=None, y_shift=None):
        super().__init__()
        w, b = policy.readout.weight.detach(), policy.readout.bias.detach()
        if y_scale is not None:
            w, b = w * y_scale, b + w @ y_shift
        _const(self, 'w', w)
        _const(self, 'b', b)
        _const(self, 'act_mid', policy.act_mid)
        _const(self, 'act_half', policy.act_half)

    def forward(self, y):
        return self.act_mid + self.act_half * torch.tanh(nn.functional.linear(y, self.w, self.b))


def _fold_features_dt(front, weight, bias, nominal_dt):
    """Weight/bias of a Linear on [features, dt in nominal periods] -> the same Linear on
    [z, dt in seconds]."""
    w_z, bias = front.fold_linear(weight[:, :-1].detach(), bias.detach())
    return torch.cat([w_z, weight[:, -1:].detach() / nominal_dt], dim=1), bias


def _cfc_weights(cell, time_scale):
    """One [4H, in+H] matrix: ff1 and ff2 masked as the wiring says, time_a scaled for dt."""
    mask = cell.sparsity_mask if cell.sparsity_mask is not None else 1.0
    ws = [cell.ff1.weight * mask, cell.ff2.weight * mask,
          cell.time_a.weight * time_scale, cell.time_b.weight]
    bs = [cell.ff1.bias, cell.ff2.bias, cell.time_a.bias * time_scale, cell.time_b.bias]
    return torch.cat(ws).detach(), torch.cat(bs).detach()


class _CfCLayer(nn.Module):
    """h' = ff1 + s (ff2 - ff1), s = sigmoid(t_a dt + t_b); one Gemm for all four heads."""

    def __init__(self, cell, time_scale, fold=None):
        super().__init__()
        self.units = cell.hidden_size
        w, b = _cfc_weights(cell, time_scale)
        if fold is not None:  # first layer: inputs are z, not features
            n_feat = cell.input_size
            w_in, b = fold(w[:, :n_feat], b)
            w = torch.cat([w_in, w[:, n_feat:]], dim=1)
        _const(self, 'w', w)
        _const(self, 'b', b)

    def forward(self, x_parts, h, dt):
        g = nn.functional.linear(torch.cat(x_parts + [h], dim=1), self.w, self.b)
        ff, t_a, t_b = torch.split(g, [2 * self.units, self.units, self.units], dim=1)
        ff1, ff2 = torch.split(torch.tanh(ff), self.units, dim=1)
        s = torch.sigmoid(t_a * dt + t_b)
        return ff1 + s * (ff2 - ff1)


class DeployCfC(nn.Module):

    def __init__(self, policy):
        super().__init__()
        self.front = _Front(policy)
        self.layer = _CfCLayer(policy.cell.cell, 1.0 / policy.nominal_dt,
                               fold=self.front.fold_linear)
        self.readout = _Readout(policy)

    def forward(self, obs, state, dt):
        h = self.layer(self.front.parts(obs), state, dt)
        return self.readout(h), h


class DeployNCP(nn.Module):

    def __init__(self, policy):
        super().__init__()
        wired = policy.cell.cell
        self.front = _Front(policy)
        self.sizes = wired.layer_sizes
        scale = 1.0 / policy.nominal_dt
        self.layers = nn.ModuleList(
            _CfCLayer(cell, scale, fold=self.front.fold_linear if i == 0 else None)
            for i, cell in enumerate(wired._layers))
        self.readout = _Readout(policy)

    def forward(self, obs, state, dt):
        parts = self.front.parts(obs)
        new = []
        for layer, h in zip(self.layers, torch.split(state, self.sizes, dim=1)):
            x = layer(parts, h, dt)
            parts = [x]
            new.append(x)
        return self.readout(x), torch.cat(new, dim=1)


class DeployGRU(nn.Module):
    """The GRU update as one Gemm on [z, dt, h] -> [r|z gates, input part of n, hidden
    part of n], with normalisation and dt / nominal_dt folded into the input weights."""

    def __init__(self, policy):
        super().__init__()
        gru = policy.cell.cell
        self.front = _Front(policy)
        units = self.units = gru.hidden_size
        w_ih, b_ih = gru.weight_ih.detach(), gru.bias_ih.detach()
        w_hh, b_hh = gru.weight_hh.detach(), gru.bias_hh.detach()
        w_x, b_ih = _fold_features_dt(self.front, w_ih, b_ih, policy.nominal_dt)
        n_x = w_x.shape[1]
        rz, n = slice(0, 2 * units), slice(2 * units, 3 * units)
        w = torch.zeros(4 * units, n_x + units)
        w[:2 * units, :n_x], w[:2 * units, n_x:] = w_x[rz], w_hh[rz]
        w[2 * units:3 * units, :n_x] = w_x[n]
        w[3 * units:, n_x:] = w_hh[n]
        b = torch.cat([b_ih[rz] + b_hh[rz], b_ih[n], b_hh[n]])
        _const(self, 'w', w)
        _const(self, 'b', b)
        self.readout = _Readout(policy)

    def forward(self, obs, state, dt):
        g = nn.functional.linear(torch.cat(self.front.parts(obs) + [dt, state], dim=1),
                                 self.w, self.b)
        rz, gi_n, gh_n = torch.split(g, [2 * self.units, self.units, self.units], dim=1)
        r, z = torch.split(torch.sigmoid(rz), self.units, dim=1)
        n = torch.tanh(gi_n + r * gh_n)
        h = n + z * (state - n)
        return self.readout(h), h


class DeployLTC(nn.Module):
    """ncps' fused semi-implicit Euler solver with its constants folded into tables.

    Tables are indexed [postsynaptic, presynaptic] so each synaptic sum is over the last axis.
    """

    def __init__(self, policy):
        super().__init__()
        cell = policy.cell.cell
        p = {k: v.detach() for k, v in cell._params.items()}
        positive = cell.make_positive_fn
        front = self.front = _Front(policy)
        self.unfolds, self.eps = cell._ode_unfolds, cell._epsilon
        # Sensory synapses act on x = features * input_w + input_b, an affine map of z:
        # sigma (x - mu) = (sigma a) z_k - sigma (mu - c) for the one z column k per feature.
        a = front.m * p['input_w']                     # [n_z, n_feat], one nonzero per column
        c = front.c * p['input_w'] + p['input_b']
        column = front.m.abs().argmax(0)               # z column feeding each feature
        n_z, units = a.shape[0], cell.state_size
        s_sig = torch.zeros(n_z, units)
        s_sigmu = torch.zeros(n_z, units)
        s_w = torch.zeros(n_z, units)                  # z columns feeding nothing stay 0
        s_we = torch.zeros(n_z, units)
        sw = positive(p['sensory_w']) * p['sensory_sparsity_mask']
        for f, k in enumerate(column.tolist()):
            s_sig[k] = p['sensory_sigma'][f] * a[k, f]
            s_sigmu[k] = p['sensory_sigma'][f] * (p['sensory_mu'][f] - c[f])
            s_w[k] = sw[f]
            s_we[k] = sw[f] * p['sensory_erev'][f]
        w = positive(p['w']) * p['sparsity_mask']
        for name, table in (('s_sig', s_sig), ('s_sigmu', s_sigmu), ('s_w', s_w),
                            ('s_we', s_we), ('sig', p['sigma']), ('sigmu', p['sigma'] * p['mu']),
                            ('w', w), ('we', w * p['erev'])):
            _const(self, name, table.T)
        # cm / (elapsed / unfolds) with elapsed = dt / nominal_dt  ->  cm_dt / dt
        _const(self, 'cm_dt', positive(p['cm']) * self.unfolds * policy.nominal_dt)
        gleak = positive(p['gleak'])
        _const(self, 'gleak', gleak)
        _const(self, 'gleak_vleak', gleak * p['vleak'])
        self.motor = cell.motor_size if cell.motor_size < cell.state_size else None
        self.readout = _Readout(policy, y_scale=p['output_w'], y_shift=p['output_b'])

    @staticmethod
    def _synapses(v, sig, sigmu, w, we):
        """sum over presynaptic j of w_ij sigmoid(sigma_ij v_j - sigma_ij mu_ij) (times E_ij)."""
        act = torch.sigmoid(v.unsqueeze(1) * sig - sigmu)
        return (act * we).sum(-1), (act * w).sum(-1)

    def forward(self, obs, state, dt):
        num_s, den_s = self._synapses(self.front.z(obs), self.s_sig, self.s_sigmu, self.s_w,
                                      self.s_we)
        cm_t = self.cm_dt / dt
        num0 = self.gleak_vleak + num_s
        den0 = cm_t + self.gleak + den_s + self.eps
        v = state
        for _ in range(self.unfolds):
            num, den = self._synapses(v, self.sig, self.sigmu, self.w, self.we)
            v = (cm_t * v + num0 + num) / (den0 + den)
        return self.readout(v if self.motor is None else v[:, :self.motor]), v


class DeployMLP(nn.Module):
    """Two tanh layers and the readout; the first takes [z, dt] with normalisation and
    dt / nominal_dt folded in. The empty state passes through."""

    def __init__(self, policy):
        super().__init__()
        first, second = policy.cell.net[0], policy.cell.net[2]
        self.front = _Front(policy)
        w1, b1 = _fold_features_dt(self.front, first.weight, first.bias, policy.nominal_dt)
        _const(self, 'w1', w1)
        _const(self, 'b1', b1)
        _const(self, 'w2', second.weight)
        _const(self, 'b2', second.bias)
        self.readout = _Readout(policy)

    def forward(self, obs, state, dt):
        x = torch.cat(self.front.parts(obs) + [dt], dim=1)
        y = torch.tanh(nn.functional.linear(x, self.w1, self.b1))
        y = torch.tanh(nn.functional.linear(y, self.w2, self.b2))
        return self.readout(y), state


class DeployMLPStack(nn.Module):
    """The window MLP. The state holds frames [features, dt in nominal periods], as in
    training, so one Gemm maps [z, dt] to the current frame (normalisation and the dt scale
    in its weights); the window's layers then run as trained."""

    def __init__(self, policy):
        super().__init__()
        cell = policy.cell
        self.front = _Front(policy)
        m, c = self.front.m, self.front.c
        n_z, n_feat = m.shape
        self.frame_size = cell.frame_size
        w_frame = torch.zeros(n_feat + 1, n_z + 1)
        w_frame[:n_feat, :n_z] = m.T
        w_frame[n_feat, n_z] = 1.0 / policy.nominal_dt
        _const(self, 'w_frame', w_frame)
        _const(self, 'b_frame', torch.cat([c, torch.zeros(1)]))
        first, second = cell.net[0], cell.net[2]
        for name, value in (('w1', first.weight), ('b1', first.bias), ('w2', second.weight),
                            ('b2', second.bias)):
            _const(self, name, value)
        self.readout = _Readout(policy)

    def forward(self, obs, state, dt):
        frame = nn.functional.linear(torch.cat(self.front.parts(obs) + [dt], dim=1),
                                     self.w_frame, self.b_frame)
        window = torch.cat([state, frame], dim=1)
        y = torch.tanh(nn.functional.linear(window, self.w1, self.b1))
        y = torch.tanh(nn.functional.linear(y, self.w2, self.b2))
        return self.readout(y), window[:, self.frame_size:]


class DeployLSTM(nn.Module):
    """The LSTM update as one Gemm on [z, dt, h] -> gates reordered [i, f, o | g], so one
    sigmoid and one tanh cover them; normalisation and dt / nominal_dt folded into the input
    weights, the two biases summed."""

    def __init__(self, policy):
        super().__init__()
        lstm = policy.cell.cell
        self.front = _Front(policy)
        units = self.units = lstm.hidden_size
        w_x, b_ih = _fold_features_dt(self.front, lstm.weight_ih, lstm.bias_ih,
                                      policy.nominal_dt)
        w = torch.cat([w_x, lstm.weight_hh.detach()], dim=1)
        b = b_ih + lstm.bias_hh.detach()
        i, f, g, o = (slice(k * units, (k + 1) * units) for k in range(4))  # torch's order
        order = torch.cat([torch.arange(4 * units)[s] for s in (i, f, o, g)])
        _const(self, 'w', w[order])
        _const(self, 'b', b[order])
        self.readout = _Readout(policy)

    def forward(self, obs, state, dt):
        h, c = torch.split(state, self.units, dim=1)
        gates = nn.functional.linear(torch.cat(self.front.parts(obs) + [dt, h], dim=1),
                                     self.w, self.b)
        ifo, g = torch.split(gates, [3 * self.units, self.units], dim=1)
        i, f, o = torch.split(torch.sigmoid(ifo), self.units, dim=1)
        c = f * c + i * torch.tanh(g)
        h = o * torch.tanh(c)
        return self.readout(h), torch.cat([h, c], dim=1)


FORMS = {'cfc': DeployCfC, 'ncp': DeployNCP, 'gru': DeployGRU, 'ltc': DeployLTC,
         'mlp': DeployMLP, 'mlp_stack': DeployMLPStack, 'lstm': DeployLSTM}


def deploy_form(policy):
    """The fast-graph module computing policy(obs, state, dt) for batch-1 steps."""
    return FORMS[policy.arch](policy).eval()
