"""Random smooth paths for the diff-drive task (numpy only).

A path is built from its curvature: piecewise linear in arc length between knots, bounded by
`max_curvature`, so heading is smooth and the turn rate needed at a given speed is bounded.
Consecutive points are `spacing` apart, as a planner's output would be.
"""
from __future__ import annotations

import numpy as np


def path_from_curvature(curvature, spacing, start_xy=(0.0, 0.0), start_yaw=0.0):
    """(N+1, 2) points from per-step curvature values (1/m), one per `spacing` of arc."""
    curvature = np.asarray(curvature, dtype=np.float64)
    turn = np.concatenate(([0.0], np.cumsum(curvature * spacing)))
    # Each step follows the heading halfway through its turn: exact chords of a circle.
    step_heading = start_yaw + 0.5 * (turn[:-1] + turn[1:])
    steps = spacing * np.stack((np.cos(step_heading), np.sin(step_heading)), axis=1)
    return np.asarray(start_xy, dtype=np.float64) + np.concatenate(
        (np.zeros((1, 2)), np.cumsum(steps, axis=0)))


def random_path(rng, length_range=(6.0, 10.0), spacing=0.05, max_curvature=0.8,
                knot_spacing=1.0, straight_fraction=0.3, start_xy=(0.0, 0.0),
                start_yaw=0.0):
    """A random smooth path starting at start_xy heading start_yaw, as an (N, 2) array.

    Curvature knots every `knot_spacing` metres are uniform in +-max_curvature, or zero with
    probability `straight_fraction`; the first knot is zero so the path leaves straight.
    """
    length = rng.uniform(*length_range)
    n_steps = max(int(round(length / spacing)), 1)
    n_knots = int(np.ceil(length / knot_spacing)) + 1
    knots = rng.uniform(-max_curvature, max_curvature, n_knots)
    knots[rng.random(n_knots) < straight_fraction] = 0.0
    knots[0] = 0.0
    s_mid = (np.arange(n_steps) + 0.5) * spacing
    curvature = np.interp(s_mid, np.arange(n_knots) * knot_spacing, knots)
    return path_from_curvature(curvature, spacing, start_xy, start_yaw)


def path_length(path_xy):
    path_xy = np.asarray(path_xy, dtype=np.float64)
    return float(np.hypot(*np.diff(path_xy, axis=0).T).sum())
