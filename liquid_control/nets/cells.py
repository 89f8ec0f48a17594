"""Which cell each arch name builds, at what width."""
from __future__ import annotations

from liquid_control.runtime.contract import BASELINES, LIQUID_AND_GRU

from .cfc import CfC
from .gru import GRU
from .lstm import LSTM
from .ltc import LTC
from .mlp import MLP
from .mlp_stack import MLPStack
from .ncp import NCP

# The names are the contract's, so the CLI, the launch files and the nets agree.
ARCHS = LIQUID_AND_GRU          # the liquid cells and the GRU: the shipped models
ALL_ARCHS = ARCHS + BASELINES

# Widths giving similar weight budgets for cfc/ltc/gru (a few times 10^4) and a small NCP
# (a few thousand weights): the comparison is about the cell, not about its size. The
# baselines match the CfC's budget on the cart-pole (~18k): the MLP is wider as it has no
# recurrent weights, the window MLP narrower as its first layer takes 8 frames, the LSTM
# keeps 64 units (4 gates: a third more weights than the GRU's 3).
DEFAULT_UNITS = {'cfc': 64, 'ltc': 64, 'gru': 64, 'ncp': 24,
                 'mlp': 128, 'mlp_stack': 112, 'lstm': 64}
NCP_MOTOR_NEURONS = 4


def make_cell(arch, n_in, units=None, ode_unfolds=None):
    """Build one cell of `arch` taking n_in features (ode_unfolds: LTC solver steps per
    tick, None for the default)."""
    if arch not in ALL_ARCHS:
        raise ValueError(f'unknown arch {arch!r}; known: {", ".join(ALL_ARCHS)}')
    units = units or DEFAULT_UNITS[arch]
    if arch == 'cfc':
        return CfC(n_in, units)
    if arch == 'ltc':
        return LTC(n_in, units, ode_unfolds)
    if arch == 'ncp':
        return NCP(n_in, units, motor=min(NCP_MOTOR_NEURONS, units - 3))
    if arch == 'gru':
        return GRU(n_in, units)
    if arch == 'mlp':
        return MLP(n_in, units)
    if arch == 'mlp_stack':
        return MLPStack(n_in, units)
    return LSTM(n_in, units)


def count_params(module):
    """Trainable weights (wiring masks, stored as frozen parameters by ncps, excluded)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
