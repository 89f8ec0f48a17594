"""The rclpy nodes, one per file: controller_node (the robot's controller), sim_node (the
MuJoCo simulator), expert_node, and the Gazebo glue nodes path_node and effort_relay_node.
process.py is their common process entry (signals, executor, clean exit)."""
