"""Topic names, message types and frames the simulators speak (plain data, no ROS import).

These are what a Gazebo (gz-sim) world bridged by ros_gz_bridge gives a ROS 2 controller, and
what the embedded MuJoCo `sim_node` publishes and consumes, so the controller cannot tell the
two apart. The Gazebo bridge files in config/gz_bridge_<task>.yaml are tested against this
table.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from liquid_control.tasks.spec import CART_JOINT, POLE_JOINT

CLOCK = '/clock'
JOINT_STATES = '/joint_states'
EFFORT_COMMANDS = '/effort_controller/commands'
ODOM = '/odom'
PLAN = '/plan'
CMD_VEL = '/cmd_vel'
DIAGNOSTICS = '/diagnostics'

CLOCK_TYPE = 'rosgraph_msgs/msg/Clock'
JOINT_STATE_TYPE = 'sensor_msgs/msg/JointState'
FLOAT64_ARRAY_TYPE = 'std_msgs/msg/Float64MultiArray'
ODOMETRY_TYPE = 'nav_msgs/msg/Odometry'
PATH_TYPE = 'nav_msgs/msg/Path'
TWIST_TYPE = 'geometry_msgs/msg/Twist'
DIAGNOSTIC_ARRAY_TYPE = 'diagnostic_msgs/msg/DiagnosticArray'

ODOM_FRAME = 'odom'
BASE_FRAME = 'base_link'

# Joints in the order JointState lists them (the Gazebo JointStatePublisher order of the SDF).
CARTPOLE_JOINTS = (CART_JOINT, POLE_JOINT)
# The diff-drive wheel joints, published on /joint_states as Gazebo's JointStatePublisher does.
DIFFDRIVE_WHEEL_JOINTS = ('left_wheel_joint', 'right_wheel_joint')


@dataclass(frozen=True)
class SimTopics:
    """What a task's simulator publishes (sensors) and subscribes to (command)."""

    task: str
    sensors: dict = field(default_factory=dict)   # topic -> message type
    command_topic: str = ''
    command_type: str = ''

    @property
    def published(self):
        """Every topic the simulator publishes, with its type (clock and sensors)."""
        return {CLOCK: CLOCK_TYPE, **self.sensors}

    @property
    def all_topics(self):
        """Published and subscribed topics with their types."""
        return {**self.published, self.command_topic: self.command_type}


TOPICS = {
    'cartpole': SimTopics(
        task='cartpole',
        sensors={JOINT_STATES: JOINT_STATE_TYPE},
        command_topic=EFFORT_COMMANDS, command_type=FLOAT64_ARRAY_TYPE),
    'diffdrive': SimTopics(
        task='diffdrive',
        sensors={ODOM: ODOMETRY_TYPE, PLAN: PATH_TYPE, JOINT_STATES: JOINT_STATE_TYPE},
        command_topic=CMD_VEL, command_type=TWIST_TYPE),
}


def topics_for(task):
    try:
        return TOPICS[task]
    except KeyError:
        raise ValueError(f'unknown task {task!r}; known tasks: {", ".join(TOPICS)}') from None


def recorded_topics(task):
    """Topics a run records: the simulator's, the command and the diagnostics."""
    return {**topics_for(task).all_topics, DIAGNOSTICS: DIAGNOSTIC_ARRAY_TYPE}
