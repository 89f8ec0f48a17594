"""Recordings of simulation runs: rosbag2 MCAP bags (written and read with `rosbags`, no ROS
needed), the rclpy recorder that fills them from live topics, run analysis and plots."""
