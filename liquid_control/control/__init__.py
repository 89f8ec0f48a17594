"""The controller's logic without ROS: what controller_node does, as plain Python.

params (the parameter table and its parser), observations (messages -> the observation
vector), path_features (path-relative observations for path following), actions (limits,
safe command, command messages), watchdog, core (one control tick), loop (loop timing),
diagnostics. Imports neither rclpy nor torch; nodes/controller_node.py wires it to ROS.
"""
