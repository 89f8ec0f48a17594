"""MuJoCo simulation without ROS: any robot from an MJCF file (robot.py), the environment a
task implements on it (env.py), episodes and evaluation (episode.py), the simulator behind
sim_node (core.py) and what it publishes and takes over ROS (ros_io.py, messages.py).
Tasks themselves live in liquid_control.tasks. Importing this package imports nothing else:
mujoco is loaded by the modules that need it.
"""
