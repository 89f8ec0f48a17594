"""Path features against cases with known answers (numpy only, no simulator)."""
import math

import numpy as np
import pytest

from liquid_control.control.path_features import (GOAL_DISTANCE_CAP, PathTracker, PreparedPath,
                                                  path_features, wrap_angle)
from liquid_control.sim.paths import path_from_curvature, path_length, random_path
from liquid_control.tasks import get_task

DIFFDRIVE = get_task('diffdrive')

NAMES = DIFFDRIVE.obs_names


def feature(values, name):
    return values[NAMES.index(name)]


def straight(length=5.0, spacing=0.05, yaw=0.0):
    return path_from_curvature(np.zeros(int(round(length / spacing))), spacing, (0, 0), yaw)


def circle(radius, turns=1.0, spacing=0.05, direction=1):
    n = int(round(2 * math.pi * radius * turns / spacing))
    return path_from_curvature(np.full(n, direction / radius), spacing)


def test_output_shape_and_dtype():
    values, index = path_features((0.0, 0.0), 0.0, 0.0, 0.0, straight())
    assert values.shape == (DIFFDRIVE.n_obs,) == (8,)
    assert values.dtype == np.float64
    assert isinstance(index, int)


@pytest.mark.parametrize('offset', [0.2, -0.3])
def test_straight_line_cross_track_sign_left_positive(offset):
    values, index = path_features((2.02, offset), 0.0, 0.4, -0.1, straight(), hint=35)
    assert feature(values, 'cross_track_error') == pytest.approx(offset)
    assert feature(values, 'heading_error') == pytest.approx(0.0)
    for name in ('path_curvature_near', 'path_curvature_mid', 'path_curvature_far'):
        assert feature(values, name) == pytest.approx(0.0, abs=1e-9)
    assert feature(values, 'linear_velocity') == 0.4
    assert feature(values, 'angular_velocity') == -0.1
    assert index == 40   # the segment from 2.00 to 2.05 m


def test_heading_error_sign_and_wrap():
    path = straight(yaw=math.pi - 0.05)           # heading almost +pi
    values, _ = path_features((0.0, 0.0), -math.pi + 0.05, 0, 0, path)
    # robot at -pi+0.05 is 0.1 rad CCW of the path: wrapped, not ~ -2pi
    assert feature(values, 'heading_error') == pytest.approx(0.1)
    values, _ = path_features((0.0, 0.0), math.pi - 0.25, 0, 0, path)
    assert feature(values, 'heading_error') == pytest.approx(-0.2)
    assert wrap_angle(math.pi) == pytest.approx(-math.pi)


def test_search_is_local_to_the_hint():
    path = straight(length=8.0)
    far_from_hint, index = path_features((6.0, 0.0), 0.0, 0, 0, path, hint=0)
    assert index < 60                    # only SEARCH_AHEAD (2 m) of path is searched
    values, index = path_features((6.02, 0.0), 0.0, 0, 0, path, hint=100)
    assert index == 120


def test_distance_to_goal_is_along_path_and_capped():
    path = straight(length=5.0)
    values, _ = path_features((4.0, 0.5), 0.0, 0, 0, path, hint=75)
    assert feature(values, 'distance_to_goal') == pytest.approx(1.0)
    values, _ = path_features((0.5, 0.0), 0.0, 0, 0, path)
    assert feature(values, 'distance_to_goal') == GOAL_DISTANCE_CAP
    values, _ = path_features((5.5, 0.1), 0.0, 0, 0, path, hint=95)
    assert feature(values, 'distance_to_goal') == pytest.approx(0.0)
    # beyond the end the lateral offset is still measured from the path's line
    assert feature(values, 'cross_track_error') == pytest.approx(0.1)


@pytest.mark.parametrize('radius,direction', [(1.0, 1), (2.0, 1), (1.5, -1)])
def test_circle_curvature_and_cross_track(radius, direction):
    path = circle(radius, turns=0.75, direction=direction)
    centre = np.array([0.0, direction * radius])
    # inside the circle by 0.1 m at a quarter turn: left of a CCW circle, right of a CW one
    angle = math.pi / 4
    on_circle = centre + radius * np.array([math.sin(angle), -direction * math.cos(angle)])
    inward = (centre - on_circle) / radius
    path_yaw = direction * angle
    tracker = PathTracker(path)
    for s in np.linspace(0.0, radius * angle, 10):     # walk up to it to move the hint
        phi = s / radius
        xy = centre + radius * np.array([math.sin(phi), -direction * math.cos(phi)])
        tracker.features(xy, direction * phi, 0.5, 0.0)
    values = tracker.features(on_circle + 0.1 * inward, path_yaw + 0.3, 0.5, 0.0)
    assert feature(values, 'cross_track_error') == pytest.approx(direction * 0.1, abs=2e-3)
    assert feature(values, 'heading_error') == pytest.approx(0.3, abs=0.03)
    for name in ('path_curvature_near', 'path_curvature_mid', 'path_curvature_far'):
        assert feature(values, name) == pytest.approx(direction / radius, rel=0.02)


def test_curvature_looks_ahead_into_a_turn():
    # 2 m straight, then a left turn of radius 1
    spacing = 0.05
    kappa = np.concatenate((np.zeros(40), np.full(40, 1.0)))
    path = path_from_curvature(kappa, spacing)
    values, _ = path_features((1.0, 0.0), 0.0, 0, 0, path)   # 1 m before the turn
    near, mid, far = values[2:5]
    assert near == pytest.approx(0.0, abs=1e-9)
    assert mid == pytest.approx(0.0, abs=0.5)                 # the turn starts at mid-range
    assert far == pytest.approx(1.0, rel=0.02)


def test_beyond_goal_curvature_is_zero():
    path = circle(1.0, turns=0.5)
    near_end = PreparedPath(path)
    # 0.5 m from the end: the near look-ahead (0.3 m) is on the path, mid and far beyond it
    values, _ = path_features(near_end.xy[-11], math.pi, 0, 0, near_end, hint=len(path) - 11)
    assert values[2:5] == pytest.approx([1.0, 0.0, 0.0], abs=0.02)


def self_crossing_loop():
    """Straight 3 m east, a 3/4 left loop of radius 1, then 3 m south: crosses itself."""
    spacing = 0.05
    kappa = np.concatenate((np.zeros(60), np.full(int(round(1.5 * math.pi / spacing)), 1.0),
                            np.zeros(60)))
    return path_from_curvature(kappa, spacing)


def test_self_crossing_path_follows_hint_not_other_branch():
    path = self_crossing_loop()
    prepared = PreparedPath(path)
    # the path passes near (2, 0) twice: heading east at first, heading south later
    first = int(np.argmin(np.hypot(*(path[:60] - (2.0, 0.0)).T)))
    later = 60 + int(np.argmin(np.hypot(*(path[60:] - (2.0, 0.0)).T)))
    assert np.hypot(*(path[later] - (2.0, 0.0))) < 0.05
    values, index = path_features((2.0, 0.0), 0.0, 0, 0, prepared, hint=first - 5)
    assert abs(index - first) <= 1
    assert feature(values, 'heading_error') == pytest.approx(0.0, abs=0.05)
    values, index = path_features((2.0, 0.0), -math.pi / 2, 0, 0, prepared, hint=later - 5)
    assert abs(index - later) <= 1
    assert feature(values, 'heading_error') == pytest.approx(0.0, abs=0.05)


def test_tracker_follows_a_self_crossing_path_in_order():
    path = self_crossing_loop()
    tracker = PathTracker(path)
    indices = []
    for k in range(0, len(path), 3):       # drive exactly along the path
        tracker.features(path[k], 0.0, 0.5, 0.0)
        indices.append(tracker.index)
    assert np.all(np.diff(indices) >= 0)
    assert indices[-1] >= len(path) - 4
    assert tracker.progress == pytest.approx(path_length(path), abs=0.2)


def test_repeated_points_are_tolerated_and_indices_refer_to_input():
    path = straight(length=1.0)
    doubled = np.repeat(path, 2, axis=0)
    values, index = path_features((0.52, 0.1), 0.0, 0, 0, doubled, hint=0)
    reference, ref_index = path_features((0.52, 0.1), 0.0, 0, 0, path, hint=0)
    assert values == pytest.approx(reference)
    assert index == 2 * ref_index


@pytest.mark.parametrize('path,message', [
    (np.zeros((0, 2)), '0 point'),
    (np.zeros((1, 2)), '1 point'),
    (np.ones((5, 2)), 'all 5 points coincide'),
    (np.array([[0.0, 0.0], [np.nan, 1.0]]), 'NaN'),
    (np.zeros((4, 3)), r'\(N, 2\)'),
])
def test_degenerate_paths_raise_clear_errors(path, message):
    with pytest.raises(ValueError, match=message):
        path_features((0.0, 0.0), 0.0, 0.0, 0.0, path)
    with pytest.raises(ValueError, match=message):
        PathTracker(path)


def test_random_paths_are_smooth_bounded_and_spaced():
    rng = np.random.default_rng(3)
    for _ in range(20):
        path = random_path(rng, start_xy=(1.0, 2.0), start_yaw=0.5)
        assert path[0] == pytest.approx([1.0, 2.0])
        steps = np.hypot(*np.diff(path, axis=0).T)
        assert steps == pytest.approx(0.05, rel=1e-6)
        assert 6.0 - 0.05 <= path_length(path) <= 10.0 + 0.05
        kappa = PreparedPath(path).point_curvature
        assert np.max(np.abs(kappa)) <= 0.8 + 1e-3
        heading = np.arctan2(*(path[1] - path[0])[::-1])
        assert heading == pytest.approx(0.5, abs=1e-3)
