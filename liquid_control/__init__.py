"""liquid_control: liquid neural network and GRU controllers for ROS 2."""

__version__ = '0.1.0'
