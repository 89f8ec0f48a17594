"""LTC: liquid time-constant cell (Hasani et al., AAAI 2021).

    C dv/dt = g_leak (v_leak - v) + sum_j w_ij sigmoid(sigma_ij (v_j - mu_ij)) (E_ij - v)

Synaptic conductances depend on the presynaptic voltage, so each neuron's time constant
varies with its input. The ODE is stiff; ncps' LTCCell takes `ode_unfolds` semi-implicit
Euler steps per call (fused solver), each dividing by dt / ode_unfolds, so dt must be > 0.
Fully connected wiring: the state is all `units` neurons and all of them are outputs.
Conductances must stay >= 0: call `constrain()` after each optimiser step.
"""
from __future__ import annotations

import torch
from ncps.torch import LTCCell
from ncps.wirings import FullyConnected
from torch import nn

# Solver steps per control tick. ncps defaults to 6; its fused (semi-implicit) Euler step
# stays stable for any step size. One step per tick costs a sixth of ncps' default in
# training and at every control step: within the 10-minute training budget the cart-pole
# LTC then sees enough data to learn the swing-up (98/100 episodes, against 34-44/100 for
# 3 steps per tick with the budget spent on fewer samples).
ODE_UNFOLDS = 1
EREV_SEED = 1111  # polarity of each synapse; fixed so the wiring is identical across runs
# ncps initialises sensory synapses for inputs in [0, 1] (thresholds mu in [0.3, 0.8], slopes
# sigma in [3, 8]): a standardised feature below ~0.3 would switch every synapse off, so the
# cell could not tell -0.5 from -3. The affine input mapping starts as x -> 0.18 x + 0.55,
# which spreads the thresholds over about +-1.4 standard deviations with graded slopes.
INPUT_GAIN, INPUT_OFFSET = 0.18, 0.55


class LTC(nn.Module):

    def __init__(self, n_in, units, ode_unfolds=None):
        super().__init__()
        self.ode_unfolds = ode_unfolds or ODE_UNFOLDS
        wiring = FullyConnected(units, erev_init_seed=EREV_SEED)
        self.cell = LTCCell(wiring, in_features=n_in, ode_unfolds=self.ode_unfolds)
        with torch.no_grad():
            self.cell._params['input_w'].fill_(INPUT_GAIN)
            self.cell._params['input_b'].fill_(INPUT_OFFSET)
        self.state_size = units
        self.output_size = units

    def forward(self, x, h, dt):
        """x [B, n_in], h [B, units], dt [B, 1] (> 0) -> (y, h_new)."""
        return self.cell(x, h, dt)

    def constrain(self):
        self.cell.apply_weight_constraints()
