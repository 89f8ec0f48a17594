"""Test-wide isolation for ROS 2: each pytest run gets its own DDS domain, discovery stays on
this host, and ROS logs go to a temporary folder. Set before any test imports rclpy, and
inherited by the processes tests start."""
import os
import random
import tempfile

os.environ['ROS_DOMAIN_ID'] = str(random.SystemRandom().randint(1, 101))
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.setdefault('ROS_LOG_DIR', tempfile.mkdtemp(prefix='liquid_control_roslog_'))
os.environ.setdefault('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')
