"""The cart-pole observed through its encoders only (registered as `cartpole_positions`).

Same robot, episodes, success rule and topics as `cartpole`; the controller observes the
cart position and the pole angle, not their velocities, as on a robot whose joints have
encoders and nothing to differentiate them. Swinging up and balancing need the velocities,
so the controller must infer them from its history and the true elapsed time between
observations. The expert is the full cart-pole's, on the full state (tasks/partial.py).
"""
from liquid_control.share import share_file

from ..partial import partially_observed
from . import CART_JOINT, POLE_JOINT
from . import TASK as CARTPOLE

TASK = partially_observed(
    CARTPOLE, 'cartpole_positions',
    obs_names=(f'{CART_JOINT}.position', f'{POLE_JOINT}.position'),
    description='swing a pole up and balance it on a cart, observing the cart position and '
                'pole angle only (velocities are not measured)',
    params_file=share_file('config', 'cartpole_positions.yaml'))
