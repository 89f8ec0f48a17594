"""The study as one of `liquid-control bench`'s benchmarks (the study itself:
liquid_control_tools.study)."""
from liquid_control_tools.study.run import run

__all__ = ['run']
