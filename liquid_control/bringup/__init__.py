"""Bringing the nodes up: what the launch files decide (plain, tested Python), the nodes'
command lines and isolated environments, and closed-loop simulation runs (sim_node and a
controller as processes, recorded). No ROS import at module level."""
