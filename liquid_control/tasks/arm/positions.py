"""The arm observed through its encoders only (registered as `arm_positions`).

Same robot, target, episodes, success rule and topics as `arm`; the controller observes the
joint angles and the target's position, not their velocities, as on an arm whose joints have
encoders and whose target comes from a tracker that reports positions only. Tracking a moving
target with a heavy arm needs both velocities (to damp the arm and to lead the target), so the
controller must infer them from its history and the true elapsed time between observations.
The expert is the full arm's, on the full state (tasks/partial.py).
"""
from liquid_control.share import share_file

from ..partial import partially_observed
from . import ELBOW, SHOULDER, TARGET_X, TARGET_Y
from . import TASK as ARM

TASK = partially_observed(
    ARM, 'arm_positions',
    obs_names=(f'{SHOULDER}.position', f'{ELBOW}.position',
               f'{TARGET_X}.position', f'{TARGET_Y}.position'),
    description='track a moving target with a two-link arm, observing the joint angles and '
                'the target position only (velocities are not measured)',
    params_file=share_file('config', 'arm_positions.yaml'))
