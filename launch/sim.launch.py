"""The embedded MuJoCo simulator (sim_node) and the controller, closed loop on sim time.

    ros2 launch liquid_control sim.launch.py                      # cart-pole, CfC, real time
    ros2 launch liquid_control sim.launch.py controller:=gru
    ros2 launch liquid_control sim.launch.py task:=diffdrive mode:=lockstep duration:=30.0

Arguments: those of controller.launch.py (task, controller, model, params_file, namespace,
log_level; use_sim_time is always true here) and of the simulator (mode, real_time_factor,
seed, duration, position_noise_std, velocity_noise_std, sensor_latency_s, drop_probability);
`ros2 launch liquid_control sim.launch.py -s` lists them. If the simulator exits (an error,
a missing dependency), the launch ends with it and says why. What they select is decided in
liquid_control.bringup.sim_launch; this file only wires it up.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch_ros.actions import Node

from liquid_control.bringup.required_nodes import end_launch_on_exit
from liquid_control.bringup.sim_launch import SIM_LAUNCH_ARGUMENTS, resolve_sim_launch


def simulator_and_controller(context):
    plan = resolve_sim_launch({a.name: context.launch_configurations.get(a.name, a.default)
                               for a in SIM_LAUNCH_ARGUMENTS})
    return [
        Node(**plan.sim.node_kwargs(), on_exit=end_launch_on_exit(plan.sim.full_name)),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(str(plan.controller_launch_file)),
            launch_arguments=plan.controller_arguments.items()),
    ]


def generate_launch_description():
    arguments = [DeclareLaunchArgument(a.name, default_value=a.default, description=a.description,
                                       choices=list(a.choices) or None)
                 for a in SIM_LAUNCH_ARGUMENTS]
    return LaunchDescription(arguments + [OpaqueFunction(function=simulator_and_controller)])
