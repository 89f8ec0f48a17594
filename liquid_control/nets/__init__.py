"""Torch recurrent cells and the policy module that is exported to ONNX.

Every cell has one interface: `cell(x, h, dt) -> (y, h_new)`, with x [B, n_in], a flat
state h [B, cell.state_size], dt [B, 1] > 0 and output y [B, cell.output_size].
Training only: the controller node never imports this package.
"""
from .cells import ARCHS, DEFAULT_UNITS, count_params, make_cell
from .cfc import CfC
from .gru import GRU
from .ltc import LTC
from .ncp import NCP
from .policy import Policy

__all__ = ['ARCHS', 'CfC', 'DEFAULT_UNITS', 'GRU', 'LTC', 'NCP', 'Policy', 'count_params',
           'make_cell']
