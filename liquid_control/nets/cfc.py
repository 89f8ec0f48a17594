"""CfC: closed-form continuous-time cell (Hasani et al., Nature Machine Intelligence 2022).

    h' = tanh(ff1(x, h)) * (1 - s) + s * tanh(ff2(x, h)),   s = sigmoid(t_a(x, h) * dt + t_b(x, h))

The gate s interpolates between two learned targets as a function of elapsed time, so an
irregular dt changes the update the way elapsed time should. Uses the authors' ncps CfCCell
with no backbone: the cell then has ~4 * (n_in + units) * units weights, the same order as a
GRU of the same width (ncps' default 128-unit backbone would more than double that).
"""
from __future__ import annotations

from ncps.torch import CfCCell
from torch import nn


class CfC(nn.Module):

    def __init__(self, n_in, units):
        super().__init__()
        self.cell = CfCCell(n_in, units, backbone_layers=0)
        self.state_size = units
        self.output_size = units

    def forward(self, x, h, dt):
        """x [B, n_in], h [B, units], dt [B, 1] -> (y, h_new); y is h_new."""
        return self.cell(x, h, dt)
