"""Gazebo (gz-sim Harmonic) instead of the embedded simulator: world, bridge, controller.

    ros2 launch liquid_control gazebo.launch.py                   # cart-pole, CfC
    ros2 launch liquid_control gazebo.launch.py task:=diffdrive controller:=gru gui:=false

Needs a full ROS 2 install with ros_gz (ros_gz_sim, ros_gz_bridge) and Gazebo Harmonic.
Starts gz sim with the task's world, ros_gz_bridge with its bridge configuration, the task's
helper nodes (cart-pole: liquid_effort_relay, Float64MultiArray effort command -> the
ApplyJointForce topic; diff-drive: liquid_path, the path to follow on /plan) and the
controller on sim time (controller.launch.py). The ROS 2 topics are those of sim_node. If gz
sim, the bridge or a helper node exits, the launch ends with it and says why.
What the arguments select is decided in liquid_control.bringup.sim_launch.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch_ros.actions import Node

from liquid_control.bringup.required_nodes import end_launch_on_exit
from liquid_control.bringup.sim_launch import (GAZEBO_BRIDGE_NODE, GAZEBO_LAUNCH_ARGUMENTS,
                                               gz_sim_launch_file, resolve_gazebo_launch)


def gazebo_bridge_and_controller(context):
    plan = resolve_gazebo_launch({a.name: context.launch_configurations.get(a.name, a.default)
                                  for a in GAZEBO_LAUNCH_ARGUMENTS})
    gz_sim = str(gz_sim_launch_file())
    actions = [
        IncludeLaunchDescription(PythonLaunchDescriptionSource(gz_sim), launch_arguments={
            'gz_args': plan.gz_args, 'on_exit_shutdown': 'true'}.items()),
        Node(**plan.bridge_node_kwargs(), on_exit=end_launch_on_exit(GAZEBO_BRIDGE_NODE)),
    ]
    actions += [Node(**helper.node_kwargs(), on_exit=end_launch_on_exit(helper.full_name))
                for helper in plan.helpers]
    actions.append(IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(plan.controller_launch_file)),
        launch_arguments=plan.controller_arguments.items()))
    return actions


def generate_launch_description():
    arguments = [DeclareLaunchArgument(a.name, default_value=a.default, description=a.description,
                                       choices=list(a.choices) or None)
                 for a in GAZEBO_LAUNCH_ARGUMENTS]
    return LaunchDescription(arguments + [OpaqueFunction(function=gazebo_bridge_and_controller)])
