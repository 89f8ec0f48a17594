"""Differential-drive path following (built in; registered as `diffdrive`).

A two-wheeled base with a caster (diffdrive.xml) follows a random smooth path it receives as
a Nav2 planner would publish it, and stops at its end. Observation: the path-relative
features of liquid_control.control.path_features (cross-track and heading error, curvature
ahead, distance to the goal, speeds) from odometry and the path. Action: body twist
(linear.x m/s, angular.z rad/s), turned into wheel speeds by the drive's configured
kinematics, as Gazebo's DiffDrive system does. Success = reaching within GOAL_TOLERANCE of the
path's end before the arrival limit (path length / REFERENCE_SPEED), never straying more than
MAX_CROSS_TRACK from the path, then coming to rest there (|v| < REST_SPEED, |omega| <
REST_TURN_RATE) and staying at rest within GOAL_TOLERANCE until the episode ends, at least
HOLD_SECONDS: the episode runs STOP_ALLOWANCE + HOLD_SECONDS beyond the arrival limit, so a
robot that stops and then creeps away fails. The ROS side is a mobile base's: /odom and
/plan in, /cmd_vel out.
"""
from pathlib import Path

from liquid_control.control.path_features import FEATURES
from liquid_control.share import share_file
from liquid_control.sim.ros_io import JointStates, PlanarOdometry, PlannedPath, SimIO, TwistCommand

from ..task import Gazebo, HelperNode, PhysicsChange, Plot, Task

HERE = Path(__file__).resolve().parent
GOAL_TOLERANCE = 0.25       # m from the path's last point
MAX_CROSS_TRACK = 0.3       # m; a successful episode never exceeds it
LOST_CROSS_TRACK = 1.0      # m; the episode ends, failed
REFERENCE_SPEED = 0.3       # m/s; the goal must be reached within path length / this
PATH_LENGTH_RANGE = (6.0, 10.0)   # m
REST_SPEED = 0.05           # m/s of |forward speed| below which the robot is at rest
REST_TURN_RATE = 0.1        # rad/s of |yaw rate| below which it is at rest
HOLD_SECONDS = 3.0          # s at rest at the goal, at least, at the end of a success
STOP_ALLOWANCE = 4.0        # s after the arrival limit to come to rest


def success_rule(path_length_range, max_cross_track):
    low, high = path_length_range
    return (f'reach within {GOAL_TOLERANCE} m of the end of a random {low:g}-{high:g} m path '
            f'within length / {REFERENCE_SPEED} m/s, never more than {max_cross_track} m from '
            f'the path, then stop there (|v| < {REST_SPEED} m/s, |yaw rate| < '
            f'{REST_TURN_RATE} rad/s) and stay stopped within {GOAL_TOLERANCE} m to the end of '
            f'the episode (the final {HOLD_SECONDS:g} s at least; episodes last length / '
            f'{REFERENCE_SPEED} m/s + {STOP_ALLOWANCE + HOLD_SECONDS:g} s)')


def longest_episode(path_length_range):
    return path_length_range[1] / REFERENCE_SPEED + HOLD_SECONDS + STOP_ALLOWANCE


TASK = Task(
    name='diffdrive',
    description='follow a random smooth path to its end with a differential-drive base',
    mjcf=HERE / 'diffdrive.xml',
    obs_names=FEATURES,
    action_names=('linear.x', 'angular.z'),
    # A little reverse: 0 m/s inside the range, where a network's tanh output can hold it
    # (at the edge of the range it settles a few mm/s above it, and the robot creeps).
    action_low=(-0.1, -2.0),
    action_high=(1.0, 2.0),
    nominal_dt=0.02,
    # Typical spread of each observation: std over 40 expert episodes, rounded. The unit of
    # observation noise.
    obs_scale=(0.02, 0.04, 0.3, 0.3, 0.3, 1.0, 0.17, 0.22),
    # Each episode's own limit is its path length / REFERENCE_SPEED plus the time to stop and
    # hold; this is the longest.
    episode_seconds=longest_episode(PATH_LENGTH_RANGE),
    env='liquid_control.tasks.diffdrive.env:DiffDriveEnv',
    expert='liquid_control.tasks.diffdrive.expert:DiffDriveExpert',
    physics={'wheel_radius_scale': PhysicsChange('wheel radius', study=(0.9, 1.1)),
             'wheel_separation_scale': PhysicsChange('wheel separation'),
             'base_mass_scale': PhysicsChange('base mass')},
    success_rule=success_rule(PATH_LENGTH_RANGE, MAX_CROSS_TRACK),
    tracking_error='time-mean |cross-track error| over the episode, in m',
    return_rule=('metres of progress along the path minus ∫|cross-track error| dt, +1 on '
                 'first completing a hold at the goal'),
    summary=(('goal_time', 'arrival        within the goal tolerance after {:.2f} s'),
             ('rest_time', 'stop           at rest at the goal from {:.2f} s')),
    figures=(('stopped_at_goal', 'at rest at the goal at the end', '%'),
             ('stop_seconds', 'arrival to rest', 's'),
             ('goal_distance', 'final distance to the goal', 'm')),
    sim_io=SimIO(outputs=(PlanarOdometry(), PlannedPath(), JointStates()),
                 command=TwistCommand(('linear.x', 'angular.z'))),
    params_file=share_file('config', 'diffdrive.yaml'),
    gazebo=Gazebo(
        world=share_file('worlds', 'diffdrive.sdf'),
        bridge=share_file('config', 'gz_bridge_diffdrive.yaml'),
        # Gazebo has no planner: liquid_path publishes the path to follow on /plan.
        helpers=(HelperNode('path_node', 'liquid_path', {'seed': 0}),)),
    plot=Plot(
        trajectory=('odom.x', 'odom.y'),
        panels=((('odom.linear_velocity', 'linear velocity (m/s)'),
                 ('odom.angular_velocity', 'angular velocity (rad/s)')),),
        action_labels=('cmd_vel linear.x (m/s)', 'cmd_vel angular.z (rad/s)'),
        status=(('odom.x', 'x', 'm'), ('odom.y', 'y', 'm'))),
    # A diff-drive tick costs the simulator ~2 ms (path geometry) against ~0.1 ms for the
    # cart-pole, and its episodes are longer: fewer, narrower rollouts keep it in budget, and
    # the NCP needs a smaller budget. The LTC needs its full one: on the smaller it did not
    # learn to come to rest and stay (27% success).
    training={'*': dict(expert_episodes=32, dagger_rounds=4, dagger_episodes=16, lanes=16),
              'ncp': dict(bc_batches=24, dagger_rounds=3, dagger_batches=12)},
)
