"""What a simulated robot publishes and takes over ROS 2: the simulator's side of a task.

A `SimIO` is a tuple of outputs and one command input. Each output measures the MuJoCo state
into plain data (`sample`), turns that into a ROS message (`to_message`) and reads named
values back from a message (`signals`, for recordings and plots; rclpy and rosbags messages
alike). The command input turns a message into the action vector (`to_action`, which refuses
what must never reach an actuator) and reads its values for recordings (`values`).

Built in, as a Gazebo + ros_gz_bridge setup (or ros2_control) gives them:
  JointStates       sensor_msgs/JointState on joint_states: every hinge and slide joint
  PlanarOdometry    nav_msgs/Odometry on odom (odom -> base_link, twist in base_link)
  PlannedPath       nav_msgs/Path on plan, latched, published at each episode start and
                    every plan_period_s (as a planner's output; from the environment's path())
  EffortCommand     std_msgs/Float64MultiArray on effort_controller/commands: one value per
                    action (a JointGroupEffortController's command)
  TwistCommand      geometry_msgs/Twist on cmd_vel: the named fields
A task needing another message writes an output or a command of its own with these methods.

numpy only at import: message classes are imported when a message is built.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from liquid_control.interfaces import (BASE_FRAME, CMD_VEL, EFFORT_COMMANDS, FLOAT64_ARRAY,
                                       JOINT_STATE, JOINT_STATES, ODOM, ODOM_FRAME, ODOMETRY, PATH,
                                       PLAN, TWIST, TWIST_FIELDS)


class CommandRejected(ValueError):
    """A command that is never applied; the text says why."""


@dataclass
class JointSample:
    stamp_ns: int
    names: tuple
    position: list
    velocity: list
    effort: list


@dataclass
class OdomSample:
    stamp_ns: int
    x: float
    y: float
    yaw: float
    v: float
    omega: float
    position_variance: float
    velocity_variance: float


@dataclass
class PathSample:
    stamp_ns: int
    xy: np.ndarray      # (N, 2), odom frame
    key: object = None  # equal keys: the same path (the simulator passes the episode number)


@dataclass(frozen=True)
class OutputParameter:
    """A sim_node parameter an output reads (declared by sim_node, settable at run time)."""

    name: str
    default: float
    description: str


@dataclass(frozen=True)
class JointStates:
    """sensor_msgs/JointState of the robot's hinge and slide joints (all of them in MJCF
    order, or `joints`): positions and velocities with the simulator's noise, efforts as the
    actuators apply them."""

    joints: tuple = ()
    topic: str = JOINT_STATES
    msg_type = JOINT_STATE
    measurement = True           # delayed and dropped like a sensor
    latched = False
    period = None

    def sample(self, env, noise, stamp_ns):
        names = self.joints or env.joint_names
        return JointSample(stamp_ns, tuple(names),
                           noise.position(env.joint_positions(names)).tolist(),
                           noise.velocity(env.joint_velocities(names)).tolist(),
                           env.joint_efforts(names).tolist())

    def to_message(self, sample):
        from .messages import joint_state_msg
        return joint_state_msg(sample)

    def signals(self, msg):
        out = {}
        for attr in ('position', 'velocity', 'effort'):
            values = list(getattr(msg, attr))
            for name, value in zip(msg.name, values):
                out[f'{name}.{attr}'] = float(value)
        return out


@dataclass(frozen=True)
class PlanarOdometry:
    """nav_msgs/Odometry of a free-floating body on a plane: x, y, yaw in `frame_id` and the
    forward speed and yaw rate in the body frame, with the simulator's noise."""

    body: str = BASE_FRAME
    topic: str = ODOM
    frame_id: str = ODOM_FRAME
    child_frame_id: str = BASE_FRAME
    msg_type = ODOMETRY
    measurement = True
    latched = False
    period = None

    def sample(self, env, noise, stamp_ns):
        x, y, yaw = env.body_pose2d(self.body)
        v, omega = env.body_twist2d(self.body)
        px, py, pyaw = noise.position(np.array([x, y, yaw]))
        pv, pomega = noise.velocity(np.array([v, omega]))
        return OdomSample(stamp_ns, float(px), float(py), float(math.remainder(pyaw, 2 * math.pi)),
                          float(pv), float(pomega), noise.position_std ** 2,
                          noise.velocity_std ** 2)

    def to_message(self, sample):
        from .messages import odometry_msg
        return odometry_msg(sample, self.frame_id, self.child_frame_id)

    def signals(self, msg):
        p, t = msg.pose.pose, msg.twist.twist
        q = p.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        prefix = self.topic.strip('/').replace('/', '.')
        return {f'{prefix}.x': float(p.position.x), f'{prefix}.y': float(p.position.y),
                f'{prefix}.yaw': yaw, f'{prefix}.linear_velocity': float(t.linear.x),
                f'{prefix}.angular_velocity': float(t.angular.z)}


@dataclass(frozen=True)
class PlannedPath:
    """nav_msgs/Path of the environment's path() in `frame_id`, latched: published when an
    episode starts and every `plan_period_s` of sim time (0: only at the start), never
    delayed or dropped."""

    topic: str = PLAN
    frame_id: str = ODOM_FRAME
    msg_type = PATH
    measurement = False
    latched = True
    period = OutputParameter('plan_period_s', 1.0,
                             'Republish the path every this many sim seconds (0: only when an '
                             'episode starts, so a /plan published by your own planner is '
                             'not overridden).')

    def sample(self, env, noise, stamp_ns):
        return PathSample(stamp_ns, np.asarray(env.path(), dtype=np.float64))

    def to_message(self, sample):
        from .messages import path_msg
        return path_msg(sample, self.frame_id)

    def signals(self, msg):
        return {}


@dataclass(frozen=True)
class EffortCommand:
    """std_msgs/Float64MultiArray: one value per action, in order (as ros2_control's
    JointGroupEffortController takes its joints' efforts)."""

    topic: str = EFFORT_COMMANDS
    msg_type = FLOAT64_ARRAY

    def values(self, msg):
        return np.asarray(msg.data, dtype=np.float64)

    def to_action(self, msg):
        """The action vector (its length and finiteness are checked by the simulator)."""
        return self.values(msg)


@dataclass(frozen=True)
class TwistCommand:
    """geometry_msgs/Twist: the named fields, in order, are the actions; a non-finite value
    in any field refuses the message (the robot cannot use the others)."""

    fields: tuple = ('linear.x', 'angular.z')
    topic: str = CMD_VEL
    msg_type = TWIST

    def __post_init__(self):
        unknown = [f for f in self.fields if f not in TWIST_FIELDS]
        if unknown:
            raise ValueError(f'{unknown} are not Twist fields ({", ".join(TWIST_FIELDS)})')

    @staticmethod
    def _field(msg, name):
        part, axis = name.split('.')
        return getattr(getattr(msg, part), axis)

    def values(self, msg):
        return np.array([self._field(msg, f) for f in self.fields], dtype=np.float64)

    def to_action(self, msg):
        every = [self._field(msg, f) for f in TWIST_FIELDS]
        if not all(math.isfinite(v) for v in every):
            raise CommandRejected(f'non-finite value in Twist {every}')
        return self.values(msg)


@dataclass(frozen=True)
class SimIO:
    """The outputs a simulated robot publishes and the command it takes. The first output
    is the primary sensor (its subscribers are reported in diagnostics)."""

    outputs: tuple = field(default_factory=lambda: (JointStates(),))
    command: object = field(default_factory=EffortCommand)

    @property
    def primary(self):
        return self.outputs[0]

    @property
    def measured(self):
        """The outputs that are measurements (not periodic, like a path): what the simulator
        counts as sensor messages, delays and drops."""
        return tuple(o for o in self.outputs if o.period is None)

    @property
    def topics(self):
        """{relative topic: message type} of every output and the command."""
        return {**{o.topic: o.msg_type for o in self.outputs},
                self.command.topic: self.command.msg_type}

    @property
    def parameters(self):
        """The sim_node parameters the outputs read (e.g. plan_period_s)."""
        return tuple(o.period for o in self.outputs if o.period is not None)
