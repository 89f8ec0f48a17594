"""Cart-pole swing-up and balance (built in; registered as `cartpole`).

A cart on a rail (joint slider_to_cart) with a pole on a hinge (cart_to_pole), cartpole.xml.
Observation: cart position and velocity, pole angle (0 upright, not wrapped) and angular
velocity, as /joint_states gives them. Action: force on the cart, N. An episode starts near
hanging; success = the pole stays upright for the whole final SUCCESS_WINDOW and the cart
never reaches a rail end. The ROS side is a ros2_control robot's: /joint_states in, a
JointGroupEffortController's /effort_controller/commands out.
"""
from pathlib import Path

from liquid_control.share import share_file
from liquid_control.sim.ros_io import EffortCommand, JointStates, SimIO

from ..task import Gazebo, HelperNode, PhysicsChange, Plot, Task

HERE = Path(__file__).resolve().parent
# Joint names as in the cart-pole URDF/SDF that Gazebo and the embedded sim publish.
CART_JOINT = 'slider_to_cart'
POLE_JOINT = 'cart_to_pole'
FORCE_LIMIT = 30.0          # N
RAIL_LIMIT = 2.4            # m, the joint range in the MJCF
UPRIGHT_TOLERANCE = 0.2     # rad of |wrapped pole angle| that counts as upright
SUCCESS_WINDOW = 2.0        # s at the end of an episode judged for success and error
EPISODE_SECONDS = 10.0

TASK = Task(
    name='cartpole',
    description='swing a pole up from hanging and balance it on a cart that must stay on '
                'its rail',
    mjcf=HERE / 'cartpole.xml',
    obs_names=(f'{CART_JOINT}.position', f'{CART_JOINT}.velocity',
               f'{POLE_JOINT}.position', f'{POLE_JOINT}.velocity'),
    action_names=(f'{CART_JOINT}.effort',),
    action_low=(-FORCE_LIMIT,),
    action_high=(FORCE_LIMIT,),
    angle_obs=(f'{POLE_JOINT}.position',),
    nominal_dt=0.02,
    # Typical spread of each observation: std over 100 expert episodes, rounded (the angle's
    # of its wrapped value, since the raw angle winds). The unit of observation noise.
    obs_scale=(0.3, 0.6, 0.75, 1.8),
    episode_seconds=EPISODE_SECONDS,
    env='liquid_control.tasks.cartpole.env:CartPoleEnv',
    expert='liquid_control.tasks.cartpole.expert:CartPoleExpert',
    physics={'cart_mass_scale': PhysicsChange('cart mass'),
             'pole_mass_scale': PhysicsChange('pole mass', study=(0.7, 1.3)),
             'pole_length_scale': PhysicsChange('pole length', study=(0.7, 1.3))},
    success_rule=(f'swing up from near hanging and keep the pole within {UPRIGHT_TOLERANCE} '
                  f'rad of upright for the final {SUCCESS_WINDOW:g} s of the '
                  f'{EPISODE_SECONDS:g} s episode, the cart never reaching a rail end'),
    tracking_error=(f'mean |pole angle from upright| over the final {SUCCESS_WINDOW:g} s, in '
                    f'rad; π when the episode ends within its first {SUCCESS_WINDOW:g} s'),
    return_rule=(f'integral of (1 + cos angle)/2 − 0.1 (x/{RAIL_LIMIT})² dt over the '
                 f'{EPISODE_SECONDS:g} s episode (max {EPISODE_SECONDS:g})'),
    summary=(('first_upright_time',
              f'swing-up       upright (< {UPRIGHT_TOLERANCE} rad) after {{:.2f}} s'),),
    sim_io=SimIO(outputs=(JointStates(),), command=EffortCommand()),
    params_file=share_file('config', 'cartpole.yaml'),
    gazebo=Gazebo(
        world=share_file('worlds', 'cartpole.sdf'),
        bridge=share_file('config', 'gz_bridge_cartpole.yaml'),
        # ros_gz_bridge has no Float64MultiArray mapping: the relay turns the effort command
        # into the ApplyJointForce topic's std_msgs/Float64.
        helpers=(HelperNode('effort_relay_node', 'liquid_effort_relay',
                            {'output_topic': 'cart_force', 'low': -FORCE_LIMIT,
                             'high': FORCE_LIMIT}),)),
    plot=Plot(
        panels=(((f'{CART_JOINT}.position', 'cart position (m)'),
                 (f'{CART_JOINT}.velocity', 'cart velocity (m/s)')),
                ((f'{POLE_JOINT}.position', 'pole angle, 0 = upright (rad)'),),
                ((f'{POLE_JOINT}.velocity', 'pole angular velocity (rad/s)'),)),
        wrap=(f'{POLE_JOINT}.position',),
        bands={f'{POLE_JOINT}.position': (-UPRIGHT_TOLERANCE, UPRIGHT_TOLERANCE,
                                           f'upright (|angle| < {UPRIGHT_TOLERANCE})')},
        lines={f'{CART_JOINT}.position': ((RAIL_LIMIT, ''), (-RAIL_LIMIT, 'rail ends'))},
        action_labels=('effort command (N)',),
        status=((f'{CART_JOINT}.position', 'cart', 'm'), (f'{POLE_JOINT}.position', 'pole',
                                                          'rad'))),
    # The swing-up is the hardest for the LTC to imitate: three times the demonstration
    # steps and the other archs' DAgger rounds, each trained ~2 passes.
    training={'ltc': dict(bc_batches=120, dagger_rounds=6, dagger_episodes=32,
                          dagger_batches=50)},
)
