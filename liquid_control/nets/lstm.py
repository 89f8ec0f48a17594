"""LSTM (Hochreiter & Schmidhuber 1997): the other gated discrete-time RNN, dt as an input.

    i, f, o = sigmoid(W_{i,f,o} [x, dt] + U_{i,f,o} h),   g = tanh(W_g [x, dt] + U_g h)
    c' = f * c + i * g,   h' = o * tanh(c'),   state = [h, c],   y = h'

With the GRU it brackets what an ordinary gated recurrence achieves, so an advantage of the
liquid cells is not an artefact of one particular discrete-time baseline.
"""
from __future__ import annotations

import torch
from torch import nn


class LSTM(nn.Module):

    def __init__(self, n_in, units):
        super().__init__()
        self.cell = nn.LSTMCell(n_in + 1, units)
        self.units = units
        self.state_size = 2 * units
        self.output_size = units

    def forward(self, x, h, dt):
        """x [B, n_in], h = [h, c] [B, 2 units], dt [B, 1] -> (y [B, units], h_new)."""
        h_prev, c_prev = torch.split(h, self.units, dim=1)
        h_new, c_new = self.cell(torch.cat([x, dt], dim=1), (h_prev, c_prev))
        return h_new, torch.cat([h_new, c_new], dim=1)
