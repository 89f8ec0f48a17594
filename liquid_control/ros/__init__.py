"""The ROS 2 side of liquid_control: the managed controller node and what it is made of.

Most modules here are plain Python that the tests drive without ROS: parameter parsing
(`config`), observation assembly (`observations`), the action sink with limits (`actions`),
the watchdog (`watchdog`), the per-tick control logic (`core`), loop timing (`loop`),
diagnostics assembly (`diagnostics`) and launch argument resolution (`launch_args`).
`controller_node` wires them to rclpy. Importing this package imports no ROS module.
"""
