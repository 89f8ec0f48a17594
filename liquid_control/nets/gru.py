"""GRU (Cho et al. 2014), the discrete-time baseline, with dt as one more input feature.

    r = sigmoid(W_r [x, dt] + U_r h),  z = sigmoid(W_z [x, dt] + U_z h)
    n = tanh(W_n [x, dt] + r * U_n h), h' = (1 - z) * n + z * h

A GRU has no notion of elapsed time; feeding dt lets it learn one, so every arch sees the
same information and comparisons under irregular sampling are fair.
"""
from __future__ import annotations

import torch
from torch import nn


class GRU(nn.Module):

    def __init__(self, n_in, units):
        super().__init__()
        self.cell = nn.GRUCell(n_in + 1, units)
        self.state_size = units
        self.output_size = units

    def forward(self, x, h, dt):
        """x [B, n_in], h [B, units], dt [B, 1] -> (y, h_new); y is h_new."""
        h_new = self.cell(torch.cat([x, dt], dim=1), h)
        return h_new, h_new
