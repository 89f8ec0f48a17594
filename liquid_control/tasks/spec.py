"""Fixed names and limits of each task: what the models' metadata carry and what the node's
observation/action mapping must produce. Imported by simulation, training and the node, so
it holds plain data only (no mujoco, no torch, no rclpy)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskSpec:
    name: str
    obs_names: tuple
    action_names: tuple
    action_low: tuple
    action_high: tuple
    # Observations that are angles: models embed them as (sin, cos) inside the graph, so a
    # joint that has wound up several turns means the same as its wrapped value.
    angle_obs: tuple = ()
    nominal_dt: float = 0.02

    @property
    def n_obs(self):
        return len(self.obs_names)

    @property
    def n_act(self):
        return len(self.action_names)


# Joint names as in the cart-pole URDF/SDF that Gazebo and the embedded sim publish.
CART_JOINT = 'slider_to_cart'
POLE_JOINT = 'cart_to_pole'

CARTPOLE = TaskSpec(
    name='cartpole',
    obs_names=(f'{CART_JOINT}.position', f'{CART_JOINT}.velocity',
               f'{POLE_JOINT}.position', f'{POLE_JOINT}.velocity'),
    action_names=(f'{CART_JOINT}.effort',),
    action_low=(-30.0,),
    action_high=(30.0,),
    angle_obs=(f'{POLE_JOINT}.position',),
)

DIFFDRIVE = TaskSpec(
    name='diffdrive',
    obs_names=('cross_track_error', 'heading_error', 'path_curvature_near',
               'path_curvature_mid', 'path_curvature_far', 'distance_to_goal',
               'linear_velocity', 'angular_velocity'),
    action_names=('linear.x', 'angular.z'),
    action_low=(0.0, -2.0),
    action_high=(1.0, 2.0),
    angle_obs=(),
)

TASKS = {spec.name: spec for spec in (CARTPOLE, DIFFDRIVE)}


def get_task(name):
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f'unknown task {name!r}; known tasks: {", ".join(TASKS)}') from None
