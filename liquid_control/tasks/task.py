"""The Task interface: everything task-specific, carried by one object.

A task is a robot (an MJCF file) and a job on it. Its `Task` says what the controller
observes and commands (names, angles, limits, nominal period), how the MuJoCo state becomes an
observation and an action becomes actuator input (its environment class), how episodes start
and end and what counts as success (also the environment), the expert that demonstrates the
job (optional: a task without one is trained from recordings), the ROS side (what the
simulator publishes and takes, and the controller node's parameters file), the physics
variations it supports, and the labels of its plots.

Everything else in liquid_control consumes tasks only through this object: the simulator
(sim_node, episodes), training, evaluation, the demo and its plots, the study and the launch
files. A task is a plugin: a package registers its Task under the entry point group
`liquid_control.tasks` (the built-in cart-pole and diff-drive register the same way), and
`liquid_control.tasks.get_task(name)` finds it.

Defining a task imports neither mujoco nor torch nor rclpy: the environment and the expert are
named as 'module:attribute' and imported when first made, so a robot can read a task's
parameters file and names without the simulator installed. docs/tasks.md shows a task from
the MJCF to `ros2 launch`.
"""
from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from liquid_control.sim.ros_io import SimIO

TASK_NAME = re.compile(r'^[a-z][a-z0-9_]*$')


class TaskDefinitionError(ValueError):
    """A Task whose definition is inconsistent; the message names the task and the field."""


@dataclass(frozen=True)
class PhysicsChange:
    """A named change of the robot's physics that the task's environment can apply when it
    builds the model (e.g. a mass scale), for robustness studies and `physics.*` parameters
    of sim_node. `study` lists the values the liquid-vs-GRU study sweeps."""

    label: str
    default: float = 1.0
    study: tuple = ()


@dataclass(frozen=True)
class HelperNode:
    """A node of package liquid_control that a Gazebo setup of the task needs beside the
    bridge (e.g. the path publisher). Parameters named `seed` take the launch's `seed`."""

    executable: str
    name: str
    parameters: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Gazebo:
    """Files for running the task in Gazebo (gz-sim) instead of sim_node: the world, the
    ros_gz_bridge configuration, and helper nodes."""

    world: Path
    bridge: Path
    helpers: tuple = ()


@dataclass(frozen=True)
class Plot:
    """What the demo's plot and progress line show, by recorded signal name.

    Signals are what the simulator's outputs publish (ros_io: `<joint>.position`,
    `<joint>.velocity`, `<joint>.effort` of a JointStates output; `odom.x`, `odom.y`,
    `odom.yaw`, `odom.linear_velocity`, `odom.angular_velocity` of a PlanarOdometry).
    """

    panels: tuple = ()            # per panel: ((signal, label), ...)
    wrap: tuple = ()              # angle signals drawn wrapped to [-pi, pi)
    bands: dict = field(default_factory=dict)   # signal -> (low, high, label): shaded
    lines: dict = field(default_factory=dict)   # signal -> ((value, label), ...): marked
    trajectory: tuple = ()        # (x signal, y signal): drawn in the plane, with the path
    action_labels: tuple = ()     # per action (default: the action names)
    status: tuple = ()            # progress line: ((signal, short label, unit), ...)


def load_object(ref):
    """'package.module:attribute' -> the attribute (a callable passes through)."""
    if callable(ref):
        return ref
    module, sep, attribute = str(ref).partition(':')
    if not sep or not module or not attribute:
        raise TaskDefinitionError(f'{ref!r} is not a reference of the form module:attribute')
    target = importlib.import_module(module)
    for part in attribute.split('.'):
        target = getattr(target, part)
    return target


@dataclass(frozen=True, eq=False, repr=False)
class Task:
    """One task (see the module docstring). Only name, description, mjcf, the names and
    limits and env are required; the rest has defaults that suit a fully actuated robot
    driven by effort commands and observed through /joint_states."""

    name: str
    description: str
    mjcf: Path                          # the robot's MJCF file
    obs_names: tuple                    # the model's observation vector, in order
    action_names: tuple                 # the model's actions, in order
    action_low: tuple
    action_high: tuple
    env: object                         # 'module:Class' of its sim.env.TaskEnv
    nominal_dt: float = 0.02            # control period the models are trained at, s
    angle_obs: tuple = ()               # observations that are angles (embedded as sin, cos)
    obs_scale: tuple = ()               # typical spread per observation: the unit of noise
    episode_seconds: float = 10.0       # the longest episode
    expert: object = None               # 'module:Class' built with no arguments, or None
    physics: dict = field(default_factory=dict)   # name -> PhysicsChange
    success_rule: str = ''              # what counts as a successful episode
    tracking_error: str = ''            # what the tracking error measures, with its unit
    return_rule: str = ''               # what an episode's return adds up
    summary: tuple = ()                 # demo summary lines: ((metric, 'text {:.2f}'), ...)
    figures: tuple = ()                 # evaluation figures beyond success and tracking:
                                        # ((metric, label, unit or '%'), ...), episode means
    sim_io: SimIO = field(default_factory=SimIO)
    params_file: Path | None = None     # the controller node's parameters for this task
    gazebo: Gazebo | None = None
    plot: Plot = field(default_factory=Plot)
    training: dict = field(default_factory=dict)  # Config overrides: {'*' or arch: {...}}
    # The full task this one observes in part (tasks/partial.py), or None: its environment
    # is the full one observed in part, its expert the full one's on the full observation.
    full_task: Task | None = None
    # What decides success but no observation gives, drawn anew each episode (e.g. a wheel's
    # scale): the controller must infer it from how the robot responds.
    unobserved: tuple = ()

    @property
    def partially_observed(self):
        """Whether a controller needs memory to do what the expert does."""
        return self.full_task is not None or bool(self.unobserved)

    def __post_init__(self):
        obs_scale = tuple(float(v) for v in self.obs_scale) or (1.0,) * len(self.obs_names)
        object.__setattr__(self, 'obs_scale', obs_scale)
        for name in ('obs_names', 'action_names', 'angle_obs', 'action_low', 'action_high',
                     'unobserved'):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, 'mjcf', Path(self.mjcf))
        self._check()

    def __repr__(self):
        return f'Task({self.name!r})'

    def _fail(self, problem):
        raise TaskDefinitionError(f'task {self.name!r}: {problem}')

    def _check(self):
        if not TASK_NAME.match(str(self.name)):
            raise TaskDefinitionError(f'task name {self.name!r} must be lower case letters, '
                                      'digits and _, starting with a letter')
        for what, names in (('obs_names', self.obs_names), ('action_names', self.action_names)):
            if not names or len(set(names)) != len(names) or not all(names):
                self._fail(f'{what} must be distinct non-empty names, got {list(names)}')
        unknown = [n for n in self.angle_obs if n not in self.obs_names]
        if unknown:
            self._fail(f'angle_obs {unknown} are not among obs_names')
        if not len(self.action_low) == len(self.action_high) == len(self.action_names):
            self._fail(f'{len(self.action_names)} actions need as many action_low and '
                       f'action_high values ({len(self.action_low)}, {len(self.action_high)})')
        for name, lo, hi in zip(self.action_names, self.action_low, self.action_high):
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                self._fail(f'action {name!r}: limits [{lo}, {hi}] must be finite, low < high')
        if len(self.obs_scale) != len(self.obs_names) or \
                not all(math.isfinite(s) and s > 0 for s in self.obs_scale):
            self._fail(f'obs_scale needs one positive value per observation, got '
                       f'{list(self.obs_scale)}')
        if not (self.nominal_dt > 0 and math.isfinite(self.nominal_dt)):
            self._fail(f'nominal_dt must be > 0, got {self.nominal_dt}')
        if not self.episode_seconds > 0:
            self._fail(f'episode_seconds must be > 0, got {self.episode_seconds}')
        for key, change in self.physics.items():
            if not isinstance(change, PhysicsChange):
                self._fail(f'physics[{key!r}] must be a PhysicsChange')
        if self.full_task is not None:
            hidden = [n for n in self.obs_names if n not in self.full_task.obs_names]
            if hidden or self.action_names != self.full_task.action_names:
                self._fail(f'observes part of task {self.full_task.name!r}: its obs_names must '
                           f'be among that task\'s and its actions the same')
        for figure in self.figures:
            if len(figure) != 3 or not all(isinstance(part, str) for part in figure):
                self._fail(f'figures entries are (metric, label, unit or "%"), got {figure!r}')

    # -- sizes and defaults ----------------------------------------------------------------
    @property
    def n_obs(self):
        return len(self.obs_names)

    @property
    def n_act(self):
        return len(self.action_names)

    @property
    def physics_defaults(self):
        """{name: default value} of the physics changes the environment accepts."""
        return {key: change.default for key, change in self.physics.items()}

    @property
    def has_expert(self):
        return self.expert is not None

    def figure_texts(self, metric_means):
        """[(label, text)] of the task's figures from an evaluation's metric means
        ('%' figures are fractions: 0.96 -> '96%'); '—' where a metric is missing or NaN."""
        texts = []
        for metric, label, unit in self.figures:
            value = metric_means.get(metric, math.nan)
            if not math.isfinite(value):
                text = '—'
            elif unit == '%':
                text = f'{100 * value:.0f}%'
            else:
                text = f'{value:.3g} {unit}'.rstrip()
            texts.append((label, text))
        return texts

    # -- the simulated side (imports mujoco) ----------------------------------------------
    def make_env(self, physics=None):
        """A fresh environment of this task (sim.env.TaskEnv), with optional physics
        changes by name ({'pole_mass_scale': 1.3})."""
        if self.full_task is not None:
            from liquid_control.sim.partial import ObservedPart
            return ObservedPart(self.full_task.make_env(physics), self)
        return load_object(self.env)(physics=physics, task=self)

    def make_expert(self):
        """The task's expert policy (reset(), act(obs, dt) -> action) on the nominal model."""
        if self.expert is None:
            raise TaskDefinitionError(f'task {self.name!r} has no expert: train its '
                                      'controllers from recordings instead')
        if self.full_task is not None:
            from liquid_control.sim.partial import PrivilegedExpert
            return PrivilegedExpert(self.full_task.make_expert())
        return load_object(self.expert)()

    def training_overrides(self, arch):
        """Changes to the training configuration for this task, and for one arch of it."""
        return {**self.training.get('*', {}), **self.training.get(arch, {})}
