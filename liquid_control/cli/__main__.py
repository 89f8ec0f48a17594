"""`python -m liquid_control.cli`: the `liquid-control` command."""
import sys

from .main import main

sys.exit(main())
