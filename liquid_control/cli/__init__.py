"""The `liquid-control` command: one module per subcommand (see main.py)."""
from .main import main

__all__ = ['main']
