"""The diff-drive with uncalibrated wheels, driven from its pose (registered as
`diffdrive_uncalibrated`).

Same robot, actions and topics as `diffdrive`, on shorter paths with half its path tolerance.
Each episode, each wheel's ground speed per commanded wheel speed is drawn in
1 +- WHEEL_SCALE_SPREAD: worn or mismatched tyres, load and floor make a real base's effective
wheel radii differ from the configured ones (what odometry calibration measures). The drive
still converts /cmd_vel with the configured radii, so the base drives slower or faster than
commanded and curves where it was told to go straight. The speeds that wheel odometry would
report are off by the same scales, so the controller observes the path features of its pose
(from localisation) only.

Nothing in one observation tells the controller its speeds or how its wheels are off: it must
infer them from how the pose has answered its commands over time (memory and elapsed time),
or its feedback leaves a cross-track offset that the tolerance does not allow. The expert is
privileged: it sees the true speeds, is told the episode's wheel scales and commands the twist
that makes the base do what it wants. Unbound (expert_node over ROS, which cannot know the
scales) it assumes a calibrated drive.
"""
from __future__ import annotations

import dataclasses

from liquid_control.control.path_features import FEATURES
from liquid_control.share import share_file

from ..partial import partially_observed
from . import TASK as DIFFDRIVE
from . import longest_episode, success_rule

WHEEL_SCALE_SPREAD = 0.3    # each wheel's scale is uniform in 1 +- this, per episode
PATH_LENGTH_RANGE = (4.0, 6.0)   # m
MAX_CROSS_TRACK = 0.15      # m; a successful episode never exceeds it
POSE_FEATURES = tuple(n for n in FEATURES if n not in ('linear_velocity', 'angular_velocity'))

# The robot and its rules on the full state (not registered: the expert's view).
UNCALIBRATED = dataclasses.replace(
    DIFFDRIVE, name='diffdrive_uncalibrated_state',
    description='the uncalibrated diff-drive on its full state (the expert of '
                'diffdrive_uncalibrated)',
    env='liquid_control.tasks.diffdrive.uncalibrated_env:UncalibratedDriveEnv',
    expert='liquid_control.tasks.diffdrive.expert:CalibratedExpert',
    episode_seconds=longest_episode(PATH_LENGTH_RANGE),
    success_rule=success_rule(PATH_LENGTH_RANGE, MAX_CROSS_TRACK)
    + f'; each wheel drives 1 +- {WHEEL_SCALE_SPREAD} times as fast as commanded, drawn per '
      'episode and not observed',
    unobserved=('left wheel scale', 'right wheel scale'),
    # The Gazebo world's wheels are calibrated: run this task in the embedded simulator.
    gazebo=None)

TASK = partially_observed(
    UNCALIBRATED, 'diffdrive_uncalibrated', obs_names=POSE_FEATURES,
    description='follow a random smooth path to its end with a differential-drive base whose '
                f'wheels are off their configured radius by up to {100 * WHEEL_SCALE_SPREAD:.0f}%'
                ', differently each episode, from its pose only',
    params_file=share_file('config', 'diffdrive_uncalibrated.yaml'))
