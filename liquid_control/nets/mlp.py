"""MLP: a feed-forward policy with no memory, the baseline a recurrent cell must beat.

    y = tanh(W_2 tanh(W_1 [x, dt] + b_1) + b_2),   h' = h   (h is [B, 0]: no state)

The action depends on the current observation and dt alone: whatever a recurrent cell gains
over it comes from its memory.
"""
from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):

    def __init__(self, n_in, units):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in + 1, units), nn.Tanh(),
                                 nn.Linear(units, units), nn.Tanh())
        self.state_size = 0
        self.output_size = units

    def forward(self, x, h, dt):
        """x [B, n_in], h [B, 0], dt [B, 1] -> (y [B, units], h unchanged)."""
        return self.net(torch.cat([x, dt], dim=1)), h
