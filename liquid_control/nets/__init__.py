"""Torch recurrent cells and the policy module that is exported to ONNX.

Every cell has one interface: `cell(x, h, dt) -> (y, h_new)`, with x [B, n_in], a flat
state h [B, cell.state_size], dt [B, 1] > 0 and output y [B, cell.output_size].
ARCHS are the liquid cells and the GRU; BASELINES (mlp, mlp_stack, lstm) are trained and
exported the same way, for the study. Training only: the controller node never imports
this package.
"""
from .cells import ALL_ARCHS, ARCHS, BASELINES, DEFAULT_UNITS, count_params, make_cell
from .cfc import CfC
from .gru import GRU
from .lstm import LSTM
from .ltc import LTC
from .mlp import MLP
from .mlp_stack import MLPStack
from .ncp import NCP
from .policy import Policy

__all__ = ['ALL_ARCHS', 'ARCHS', 'BASELINES', 'CfC', 'DEFAULT_UNITS', 'GRU', 'LSTM', 'LTC',
           'MLP', 'MLPStack', 'NCP', 'Policy', 'count_params', 'make_cell']
