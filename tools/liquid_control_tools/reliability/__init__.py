"""Reliability and safety runs against the real nodes: input fuzzing, fault scenarios, model
integrity and the long closed-loop run. docs/reliability.md is generated from their results.

    from liquid_control_tools import reliability
    reliability.run_fuzz(2000, task='cartpole')    # -> dict of figures
    reliability.run_faults()                       # -> {'scenarios': [...], ...}
    reliability.run_long(1800, 500)                # -> dict of figures and checks
    reliability.run_integrity()                    # -> shipped models vs their cards
    reliability.run_all(...)                       # all of them, as `liquid-control reliability`

Heavy imports (rclpy, hypothesis, onnx) happen inside these functions: importing this package
costs nothing, so `liquid-control --help` stays fast.
"""
from __future__ import annotations


def run_fuzz(cases=200, task='cartpole', **kwargs):
    from .fuzz import run_fuzz as run
    return run(cases=cases, task=task, **kwargs)


def run_faults(names=None, **kwargs):
    from .faults import run_faults as run
    return run(names, **kwargs)


def run_long(duration_s=60.0, rate_hz=500.0, **kwargs):
    from .longrun import run_long as run
    return run(duration_s=duration_s, rate_hz=rate_hz, **kwargs)


def run_integrity(models_dir=None):
    from .suite import run_integrity as run
    return run(models_dir)


def run_all(**kwargs):
    from .suite import run_all as run
    return run(**kwargs)
