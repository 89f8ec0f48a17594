"""A pendulum swing-up task for liquid_control, packaged as a user would package their own
robot's task. pip install -e this folder and `liquid-control tasks` lists it.

The robot: a rod on a motorised hinge (pendulum.xml) whose motor is too weak to lift it
directly. Observation: the hinge's angle (0 upright, an angle: the model sees it as sin,
cos) and angular velocity, as /joint_states gives them. Action: the hinge torque. Episode:
10 s from near hanging; success = upright (|angle| < 0.2 rad) for the whole final 2 s.

Everything about the task is in TASK below; the MuJoCo side lives in env.py and expert.py,
imported only when a simulation runs, so reading TASK needs neither mujoco nor torch.
"""
from pathlib import Path

from liquid_control.tasks import PhysicsChange, Plot, Task

HERE = Path(__file__).resolve().parent
MODELS = HERE / 'models'       # trained controllers, registered under liquid_control.models
JOINT = 'hinge'
TORQUE_LIMIT = 1.5             # N m, the motor's ctrlrange in pendulum.xml
UPRIGHT_TOLERANCE = 0.2        # rad
SUCCESS_WINDOW = 2.0           # s
EPISODE_SECONDS = 10.0

TASK = Task(
    name='pendulum',
    description='swing a pendulum up with a motor too weak to lift it, and hold it upright',
    mjcf=HERE / 'pendulum.xml',
    obs_names=(f'{JOINT}.position', f'{JOINT}.velocity'),
    action_names=(f'{JOINT}.effort',),
    action_low=(-TORQUE_LIMIT,),
    action_high=(TORQUE_LIMIT,),
    angle_obs=(f'{JOINT}.position',),
    nominal_dt=0.02,
    obs_scale=(1.0, 3.0),          # typical spread of the angle (wrapped) and its rate
    episode_seconds=EPISODE_SECONDS,
    env='pendulum_task.env:PendulumEnv',
    expert='pendulum_task.expert:PendulumExpert',
    physics={'mass_scale': PhysicsChange('rod mass', study=(0.8, 1.2)),
             'length_scale': PhysicsChange('rod length', study=(0.8, 1.2))},
    success_rule=(f'swing up from near hanging and stay within {UPRIGHT_TOLERANCE} rad of '
                  f'upright for the final {SUCCESS_WINDOW:g} s of the {EPISODE_SECONDS:g} s '
                  'episode'),
    tracking_error=f'mean |angle from upright| over the final {SUCCESS_WINDOW:g} s, in rad',
    return_rule=f'integral of (1 + cos angle)/2 dt over the episode (max {EPISODE_SECONDS:g})',
    summary=(('first_upright_time', 'swing-up       upright after {:.2f} s'),),
    # The default ROS side: /joint_states out, /effort_controller/commands in.
    params_file=HERE / 'config' / 'pendulum.yaml',
    plot=Plot(
        panels=(((f'{JOINT}.position', 'angle, 0 = upright (rad)'),),
                ((f'{JOINT}.velocity', 'angular velocity (rad/s)'),)),
        wrap=(f'{JOINT}.position',),
        bands={f'{JOINT}.position': (-UPRIGHT_TOLERANCE, UPRIGHT_TOLERANCE, 'upright')},
        action_labels=('torque command (N m)',),
        status=((f'{JOINT}.position', 'angle', 'rad'),)),
)
