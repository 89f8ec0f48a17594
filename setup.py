"""ament_python package: installs the Python package, its console scripts under
lib/liquid_control (where `ros2 run` and launch_ros look), and launch/, config/, models/
and worlds/ under share/liquid_control."""
from glob import glob

from setuptools import find_packages, setup

package_name = 'liquid_control'


def share(subdir, pattern='*'):
    """One data_files entry installing subdir/pattern into share/<package>/subdir."""
    return (f'share/{package_name}/{subdir}', sorted(glob(f'{subdir}/{pattern}')))


setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={'liquid_control': ['tasks/*/*.xml']},
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{package_name}']),
        (f'share/{package_name}', ['package.xml']),
        share('launch', '*.launch.*'),
        share('config', '*.yaml'),
        share('config', '*.xml'),
        share('models', '*.onnx'),
        share('models', '*.md'),
        share('worlds', '*.sdf'),
    ],
    # ROS dependencies (rclpy, messages) come from package.xml: from /opt/ros on a robot,
    # from the PyPI wheels in requirements/ elsewhere. Never name the PyPI ros-* wheels here.
    install_requires=['setuptools'],
    extras_require={
        'runtime': ['numpy', 'onnxruntime', 'pyyaml'],
        'train': ['torch==2.13.0', 'onnx', 'onnxscript', 'ncps==1.0.1', 'tqdm'],
        'sim': ['mujoco', 'rosbags', 'matplotlib'],
        'test': ['pytest'],
        'cluster': ['ray==2.60.0'],
    },
    zip_safe=True,
    maintainer='liquid_control maintainers',
    maintainer_email='maintainers@liquid-control.invalid',
    description='Liquid neural network (CfC, LTC, NCP) and GRU controllers for ROS 2.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'liquid-control = liquid_control.cli.main:main',
            'controller_node = liquid_control.nodes.controller_node:main',
            'sim_node = liquid_control.nodes.sim_node:main',
            'expert_node = liquid_control.nodes.expert_node:main',
            'path_node = liquid_control.nodes.path_node:main',
            'effort_relay_node = liquid_control.nodes.effort_relay_node:main',
        ],
        # The built-in tasks register exactly as a task package of one's own does.
        'liquid_control.tasks': [
            'cartpole = liquid_control.tasks.cartpole:TASK',
            'diffdrive = liquid_control.tasks.diffdrive:TASK',
            'cartpole_positions = liquid_control.tasks.cartpole.positions:TASK',
            'arm = liquid_control.tasks.arm:TASK',
            'arm_positions = liquid_control.tasks.arm.positions:TASK',
            'diffdrive_uncalibrated = liquid_control.tasks.diffdrive.uncalibrated:TASK',
        ],
    },
)
