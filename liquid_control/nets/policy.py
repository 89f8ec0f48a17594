"""Policy: raw observations in, actions in physical units out, one control tick per call.

    features = [(obs_plain - mean) / std, sin(obs_angle), cos(obs_angle)]
    y, state_out = cell(features, state, dt / nominal_dt)
    action = mid + half_range * tanh(readout(y))

Everything a controller needs at run time is inside the module, so the exported ONNX graph
takes the sensor values as published and emits commands within the task's limits. Time goes
to the cell in units of the nominal period (1.0 at the nominal rate): the cells' time
constants are initialised for O(1) elapsed times, and the graph input stays in seconds.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .cells import make_cell


class Policy(nn.Module):

    def __init__(self, spec, arch, hidden=None, ode_unfolds=None):
        super().__init__()
        self.spec = spec
        self.arch = arch
        angle = [spec.obs_names.index(n) for n in spec.angle_obs]
        plain = [i for i in range(spec.n_obs) if i not in angle]
        self.register_buffer('plain_idx', torch.tensor(plain, dtype=torch.long))
        self.register_buffer('angle_idx', torch.tensor(angle, dtype=torch.long))
        self.register_buffer('obs_mean', torch.zeros(len(plain)))
        self.register_buffer('obs_std', torch.ones(len(plain)))
        low = torch.tensor(spec.action_low, dtype=torch.float32)
        high = torch.tensor(spec.action_high, dtype=torch.float32)
        self.register_buffer('act_mid', (high + low) / 2)
        self.register_buffer('act_half', (high - low) / 2)
        self.nominal_dt = float(spec.nominal_dt)
        self.n_features = len(plain) + 2 * len(angle)
        self.cell = make_cell(arch, self.n_features, hidden, ode_unfolds)
        self.readout = nn.Linear(self.cell.output_size, spec.n_act)

    @property
    def state_size(self):
        return self.cell.state_size

    def initial_state(self, batch=1):
        return torch.zeros(batch, self.state_size)

    def fit_normaliser(self, obs, min_std=1e-3):
        """Set the observation mean/std from data: obs array-like [N, n_obs]."""
        obs = torch.as_tensor(np.asarray(obs), dtype=torch.float32)[:, self.plain_idx]
        self.obs_mean.copy_(obs.mean(0))
        self.obs_std.copy_(obs.std(0).clamp_min(min_std))

    def features(self, obs):
        x = (obs.index_select(1, self.plain_idx) - self.obs_mean) / self.obs_std
        if self.angle_idx.numel() == 0:
            return x
        angle = obs.index_select(1, self.angle_idx)
        return torch.cat([x, torch.sin(angle), torch.cos(angle)], dim=1)

    def forward(self, obs, state, dt):
        """One step: obs [B, n_obs], state [B, n_state], dt [B, 1] seconds -> (action, state)."""
        y, state = self.cell(self.features(obs), state, dt / self.nominal_dt)
        return self.act_mid + self.act_half * torch.tanh(self.readout(y)), state

    def unroll(self, obs, dt, state=None):
        """A sequence for training: obs [B, T, n_obs], dt [B, T, 1] -> (actions [B, T, n_act],
        final state). Truncated BPTT is the caller's: detach the returned state between chunks.
        """
        state = self.initial_state(obs.shape[0]) if state is None else state
        actions = []
        for t in range(obs.shape[1]):
            action, state = self(obs[:, t], state, dt[:, t])
            actions.append(action)
        return torch.stack(actions, dim=1), state

    def unit_action(self, action):
        """Physical action -> [-1, 1] per dimension (the scale the training loss uses)."""
        return (action - self.act_mid) / self.act_half

    def constrain(self):
        """Project weights back to their valid set after an optimiser step (LTC only)."""
        if hasattr(self.cell, 'constrain'):
            self.cell.constrain()
