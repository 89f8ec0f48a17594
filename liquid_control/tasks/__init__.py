"""Task definitions shared by the simulator, training and the ROS node (numpy only)."""
