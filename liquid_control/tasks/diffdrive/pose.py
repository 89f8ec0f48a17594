"""The diff-drive following its path without measured speeds (registered as
`diffdrive_pose`).

Same robot, paths, success rule and topics as `diffdrive`; the controller observes the
path-relative pose features (cross-track and heading error, curvature ahead, distance to the
goal) but not the odometry's linear and angular velocity, as with a pose-only localisation
source. Coming to rest at the goal and damping the turns need the speeds, so the controller
must infer them from how the pose features change over the true elapsed time. The expert is
the full diff-drive's, on the full observation (tasks/partial.py).
"""
from liquid_control.control.path_features import FEATURES
from liquid_control.share import share_file

from ..partial import partially_observed
from . import TASK as DIFFDRIVE

SPEEDS = ('linear_velocity', 'angular_velocity')

TASK = partially_observed(
    DIFFDRIVE, 'diffdrive_pose',
    obs_names=tuple(n for n in FEATURES if n not in SPEEDS),
    description='follow a random smooth path to its end with a differential-drive base, '
                'observing its pose relative to the path only (speeds are not measured)',
    params_file=share_file('config', 'diffdrive_pose.yaml'))
