"""NCP: a CfC cell on a sparse neural-circuit-policy wiring (Lechner et al., Nature MI 2020).

Neurons are layered sensory -> inter -> command -> motor, with sparse synapses between
layers and recurrence among command neurons; each layer is a CfC update restricted by the
wiring's mask. Outputs are the motor neurons. A few dozen neurons give a controller with an
order of magnitude fewer weights than a GRU. Uses ncps' WiredCfCCell and AutoNCP wiring (its
fixed wiring seed keeps the circuit identical across runs).
"""
from __future__ import annotations

from ncps.torch import WiredCfCCell
from ncps.wirings import AutoNCP
from torch import nn

WIRING_SEED = 22222


class NCP(nn.Module):

    def __init__(self, n_in, units, motor):
        super().__init__()
        self.cell = WiredCfCCell(n_in, AutoNCP(units, motor, seed=WIRING_SEED))
        self.state_size = units
        self.output_size = motor

    def forward(self, x, h, dt):
        """x [B, n_in], h [B, units], dt [B, 1] -> (motor outputs [B, motor], h_new)."""
        return self.cell(x, h, dt)
