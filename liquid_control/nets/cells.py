"""Which cell each arch name builds, at what width."""
from __future__ import annotations

from .cfc import CfC
from .gru import GRU
from .ltc import LTC
from .ncp import NCP

ARCHS = ('cfc', 'ltc', 'ncp', 'gru')

# Widths giving similar weight budgets for cfc/ltc/gru (a few times 10^4) and a small NCP
# (a few thousand weights): the comparison is about the cell, not about its size.
DEFAULT_UNITS = {'cfc': 64, 'ltc': 64, 'gru': 64, 'ncp': 24}
NCP_MOTOR_NEURONS = 4


def make_cell(arch, n_in, units=None, ode_unfolds=None):
    """Build one cell of `arch` taking n_in features (ode_unfolds: LTC solver steps per
    tick, None for the default)."""
    units = units or DEFAULT_UNITS[arch]
    if arch == 'cfc':
        return CfC(n_in, units)
    if arch == 'ltc':
        return LTC(n_in, units, ode_unfolds)
    if arch == 'ncp':
        return NCP(n_in, units, motor=min(NCP_MOTOR_NEURONS, units - 3))
    if arch == 'gru':
        return GRU(n_in, units)
    raise ValueError(f'unknown arch {arch!r}; known: {", ".join(ARCHS)}')


def count_params(module):
    """Trainable weights (wiring masks, stored as frozen parameters by ncps, excluded)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
