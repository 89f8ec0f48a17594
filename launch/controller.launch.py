"""Start liquid_controller with a shipped or given model.

    ros2 launch liquid_control controller.launch.py task:=cartpole controller:=cfc
    ros2 launch liquid_control controller.launch.py model:=/path/to/model.onnx params_file:=my.yaml

Arguments: task (any installed task), controller (cfc | ltc | ncp | gru, shipped; mlp |
mlp_stack | lstm once trained), model, params_file, use_sim_time, namespace, autostart,
log_level (see `ros2 launch liquid_control controller.launch.py -s`). What they select is
decided in liquid_control.bringup.controller_launch; this file only wires it up. The node is a
managed (lifecycle) node that walks itself to active unless autostart:=false.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch_ros.actions import LifecycleNode

from liquid_control.bringup.controller_launch import LAUNCH_ARGUMENTS, resolve_from_context


def controller_node(context):
    return [LifecycleNode(**resolve_from_context(context).node_kwargs())]


def generate_launch_description():
    arguments = [DeclareLaunchArgument(a.name, default_value=a.default, description=a.description,
                                       choices=list(a.choices) or None)
                 for a in LAUNCH_ARGUMENTS]
    return LaunchDescription(arguments + [OpaqueFunction(function=controller_node)])
