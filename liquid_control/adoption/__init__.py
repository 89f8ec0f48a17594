"""Adopting policies trained elsewhere: an ONNX policy becomes a contract file (needs onnx)."""
from .adopt import PARITY_TOLERANCE, Adopted, adopt
from .spec import AdoptError, AdoptSpec

__all__ = ['PARITY_TOLERANCE', 'Adopted', 'AdoptError', 'AdoptSpec', 'adopt']
