"""Path-relative observations of a mobile base following a path (numpy only: the node
computes them from odometry and a nav_msgs/Path; the diff-drive task observes them).

Given the robot's pose and velocities and a path as an (N, 2) polyline, `path_features`
returns FEATURES in order:
  cross_track_error     signed distance to the path, positive when the robot is LEFT of it
  heading_error         robot yaw minus path heading, wrapped to [-pi, pi) (positive = CCW)
  path_curvature_*      signed curvature (1/m, positive = turning left) LOOKAHEADS ahead of
                        the robot's projection on the path, capped at +-CURVATURE_CAP,
                        0 beyond the path's end
  distance_to_goal      arc length from the projection to the path's end, capped at
                        GOAL_DISTANCE_CAP so the feature stays bounded
  linear_velocity, angular_velocity   passed through (body frame, m/s and rad/s)

The nearest point is searched only within SEARCH_BACK..SEARCH_AHEAD metres of path around
the previous nearest index (`hint`), so each call costs O(window) and a path that crosses
itself is followed in order instead of jumping to the other branch.
"""
from __future__ import annotations

import math

import numpy as np

FEATURES = ('cross_track_error', 'heading_error', 'path_curvature_near', 'path_curvature_mid',
            'path_curvature_far', 'distance_to_goal', 'linear_velocity', 'angular_velocity')
LOOKAHEADS = (0.3, 0.8, 1.5)       # m ahead of the projection: near, mid, far curvature
CURVATURE_SPAN = 0.25              # m either side of a point for its three-point curvature
CURVATURE_CAP = 5.0                # 1/m; sharp corners in planner output stay bounded
GOAL_DISTANCE_CAP = 3.0            # m
SEARCH_BACK = 0.5                  # m of path behind the hint searched for the nearest point
SEARCH_AHEAD = 2.0                 # m of path ahead of the hint
_MIN_SEGMENT = 1e-9                # m; shorter steps count as a repeated point
_LOOKAHEADS = np.array(LOOKAHEADS)


def wrap_angle(angle):
    """Wrap to [-pi, pi)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class PreparedPath:
    """A validated polyline with arc lengths and segment directions, computed once.

    Points that repeat their predecessor are dropped (planners emit them); indices given to
    and returned by the public functions still refer to the caller's original array.
    """

    def __init__(self, path_xy):
        points = np.asarray(path_xy, dtype=np.float64)
        if points.size == 0:
            points = points.reshape(0, 2)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f'path must be an (N, 2) array of x, y points; got shape '
                             f'{points.shape}')
        if len(points) < 2:
            raise ValueError(f'path has {len(points)} point(s); at least 2 distinct points '
                             f'are needed to define a direction')
        if not np.all(np.isfinite(points)):
            raise ValueError('path contains NaN or infinite coordinates')
        steps = np.hypot(*np.diff(points, axis=0).T)
        keep = np.concatenate(([True], steps > _MIN_SEGMENT))
        if keep.sum() < 2:
            raise ValueError(f'path has no length: all {len(points)} points coincide')
        self.source_index = np.flatnonzero(keep)
        self.xy = points[keep]
        delta = np.diff(self.xy, axis=0)
        self.seg_len = np.hypot(delta[:, 0], delta[:, 1])
        self.seg_dir = delta / self.seg_len[:, None]
        self.seg_heading = np.arctan2(delta[:, 1], delta[:, 0])
        self.s = np.concatenate(([0.0], np.cumsum(self.seg_len)))
        self.length = float(self.s[-1])
        # Per-segment search windows and per-point curvature, so a query is O(window).
        seg_start = self.s[:-1]
        self.window_lo = np.maximum(
            np.searchsorted(self.s, seg_start - SEARCH_BACK, side='right') - 1, 0)
        self.window_hi = np.minimum(
            np.searchsorted(self.s, seg_start + SEARCH_AHEAD, side='left'), self.n_segments - 1)
        self.point_curvature = self.curvatures_at(self.s)

    @property
    def n_segments(self):
        return len(self.seg_len)

    def segment_of_index(self, index):
        """Segment that starts at (or covers) the caller's original point index."""
        seg = int(np.searchsorted(self.source_index, index, side='right')) - 1
        return min(max(seg, 0), self.n_segments - 1)

    def points_at(self, s):
        """Points at arc lengths s (array), clamped to the path's ends."""
        s = np.clip(s, 0.0, self.length)
        seg = np.minimum(np.searchsorted(self.s, s, side='right') - 1, self.n_segments - 1)
        return self.xy[seg] + self.seg_dir[seg] * (s - self.s[seg])[:, None]

    def curvatures_at(self, s):
        """Signed curvature at arc lengths s (array) within the path: of the circle through
        the points CURVATURE_SPAN before, at and after each (the triple slides inwards near
        the ends so it never collapses)."""
        span = min(CURVATURE_SPAN, 0.5 * self.length)
        centre = np.clip(np.asarray(s, dtype=np.float64), span, self.length - span)
        p0, p1, p2 = (self.points_at(centre + offset) for offset in (-span, 0.0, span))
        a, b, c = p1 - p0, p2 - p1, p2 - p0
        lengths = np.hypot(a[:, 0], a[:, 1]) * np.hypot(b[:, 0], b[:, 1]) \
            * np.hypot(c[:, 0], c[:, 1])
        cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        safe = lengths > 1e-12      # a path that doubles back on itself
        kappa = np.where(safe, 2.0 * cross / np.where(safe, lengths, 1.0), 0.0)
        return np.clip(kappa, -CURVATURE_CAP, CURVATURE_CAP)

    def locate(self, xy, hint_seg):
        """Nearest segment to xy within the window around hint_seg.

        Returns (segment, arc length of the projection, signed lateral offset).
        """
        lo, hi = self.window_lo[hint_seg], self.window_hi[hint_seg] + 1
        rel = np.asarray(xy, dtype=np.float64) - self.xy[lo:hi]
        direction = self.seg_dir[lo:hi]
        along = rel[:, 0] * direction[:, 0] + rel[:, 1] * direction[:, 1]
        np.clip(along, 0.0, self.seg_len[lo:hi], out=along)
        gap = rel - direction * along[:, None]
        best = int(np.argmin(np.hypot(gap[:, 0], gap[:, 1])))   # no overflow for huge input
        seg = lo + best
        # Signed distance to the segment's line: left of the direction of travel is positive,
        # and beyond either end of the path it stays the lateral offset, not the range.
        (dx, dy), (rx, ry) = direction[best], rel[best]
        return seg, float(self.s[seg] + along[best]), float(dx * ry - dy * rx)

    def features(self, pose_xy, yaw, v, omega, hint_seg):
        seg, s, lateral = self.locate(pose_xy, hint_seg)
        out = np.empty(8, dtype=np.float64)
        out[0] = lateral
        out[1] = wrap_angle(yaw - self.seg_heading[seg])
        # Beyond the goal the path is taken to end straight.
        out[2:5] = np.interp(s + _LOOKAHEADS, self.s, self.point_curvature, right=0.0)
        out[5] = min(self.length - s, GOAL_DISTANCE_CAP)
        out[6] = v
        out[7] = omega
        return out, seg, s


def path_features(pose_xy, yaw, v, omega, path_xy, hint=0):
    """Observation vector (FEATURES order, float64 (8,)) and the nearest index.

    `path_xy` is an (N, 2) array or a PreparedPath (prepare once to avoid O(N) work per
    call); `hint` is the index returned by the previous call (0 for a new path). Raises
    ValueError for a path with fewer than two distinct points or non-finite coordinates.
    """
    path = path_xy if isinstance(path_xy, PreparedPath) else PreparedPath(path_xy)
    out, seg, _ = path.features(pose_xy, yaw, v, omega, path.segment_of_index(hint))
    return out, int(path.source_index[seg])


class PathTracker:
    """Holds a path and the nearest-index hint between calls."""

    def __init__(self, path_xy):
        self.path = PreparedPath(path_xy)
        self._points = np.array(path_xy, dtype=np.float64)
        self.reset()

    def same_path(self, path_xy):
        """Whether `path_xy` is exactly the path tracked (a republication of it)."""
        points = np.asarray(path_xy, dtype=np.float64)
        return points.shape == self._points.shape and np.array_equal(points, self._points)

    def reset(self, index=0):
        self._seg = self.path.segment_of_index(index)
        self.progress = self.path.s[self._seg]   # arc length of the latest projection, m

    @property
    def index(self):
        """Nearest original path index found by the latest call."""
        return int(self.path.source_index[self._seg])

    @property
    def length(self):
        return self.path.length

    @property
    def goal(self):
        return self.path.xy[-1].copy()

    def features(self, pose_xy, yaw, v, omega):
        out, self._seg, self.progress = self.path.features(pose_xy, yaw, v, omega, self._seg)
        return out
