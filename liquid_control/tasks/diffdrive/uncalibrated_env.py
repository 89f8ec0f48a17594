"""The uncalibrated diff-drive's MuJoCo environment (the task and its rules: uncalibrated.py)."""
from __future__ import annotations

from .env import DiffDriveEnv
from .uncalibrated import MAX_CROSS_TRACK, PATH_LENGTH_RANGE, UNCALIBRATED, WHEEL_SCALE_SPREAD


class UncalibratedDriveEnv(DiffDriveEnv):
    task = UNCALIBRATED
    path_length_range = PATH_LENGTH_RANGE
    max_cross_track = MAX_CROSS_TRACK

    def reset(self, rng):
        # Drawn first, from the episode's own stream: the same episode for every controller.
        self.wheel_scales = tuple(1.0 + rng.uniform(-WHEEL_SCALE_SPREAD, WHEEL_SCALE_SPREAD, 2))
        super().reset(rng)

    def metrics(self):
        left, right = self.wheel_scales
        return dict(super().metrics(), left_wheel_scale=left, right_wheel_scale=right)
