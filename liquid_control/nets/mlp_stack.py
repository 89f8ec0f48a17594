"""MLP over a window: memory without recurrence, the last K frames of [x, dt] side by side.

    frame = [x, dt],   window = [h, frame]   (h: the previous K-1 frames, oldest first)
    y = tanh(W_2 tanh(W_1 window + b_1) + b_2),   h' = window without its oldest frame

The state is a shift register that starts as zeros. A recurrent cell must do better than a
fixed-length history fed to a network with no recurrence to show that its dynamics help.
"""
from __future__ import annotations

import torch
from torch import nn

FRAMES = 8  # K: the current frame and the K-1 before it


class MLPStack(nn.Module):

    def __init__(self, n_in, units, frames=FRAMES):
        super().__init__()
        self.frame_size = n_in + 1
        self.frames = frames
        self.net = nn.Sequential(nn.Linear(frames * self.frame_size, units), nn.Tanh(),
                                 nn.Linear(units, units), nn.Tanh())
        self.state_size = (frames - 1) * self.frame_size
        self.output_size = units

    def forward(self, x, h, dt):
        """x [B, n_in], h [B, (K-1) (n_in+1)], dt [B, 1] -> (y [B, units], h_new)."""
        window = torch.cat([h, x, dt], dim=1)
        return self.net(window), window[:, self.frame_size:]
