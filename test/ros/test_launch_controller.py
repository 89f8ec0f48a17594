"""launch/controller.launch.py and controller.launch.yaml under the real launch system
(launch_pytest): the node starts, controls, and stops cleanly.

Collected only where launch, launch_ros and launch_pytest are importable and liquid_control
is installed in an ament prefix (colcon build; AMENT_PREFIX_PATH): test/ros/conftest.py
leaves it out elsewhere and says so in the report header.
"""
import launch_pytest
import pytest
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import AnyLaunchDescriptionSource

import launch

from ros_fixtures import REPO, Collector, Spinner, build_task_model, joint_state, wait_for


@pytest.fixture(scope='module')
def model(tmp_path_factory):
    return build_task_model(tmp_path_factory.mktemp('launch_models') / 'cartpole_test.onnx')


def include(launch_file, **arguments):
    return IncludeLaunchDescription(AnyLaunchDescriptionSource(str(REPO / 'launch' /
                                                                   launch_file)),
                                    launch_arguments=arguments.items())


@launch_pytest.fixture
def python_launch(model):
    return launch.LaunchDescription([
        include('controller.launch.py', task='cartpole', model=str(model),
                params_file=str(REPO / 'config' / 'cartpole.yaml')),
        launch_pytest.actions.ReadyToTest()])


@launch_pytest.fixture
def yaml_launch(model):
    return launch.LaunchDescription([
        include('controller.launch.yaml', task='cartpole', model=str(model),
                namespace='robot7', params_file=str(REPO / 'config' / 'cartpole.yaml')),
        launch_pytest.actions.ReadyToTest()])


def drive(namespace=''):
    """Publish joint states and return the first non-safe commands (in another context)."""
    import rclpy
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray
    context = rclpy.Context()
    rclpy.init(context=context)
    spinner = Spinner(context)
    try:
        node = spinner.add(rclpy.create_node('launch_test_driver', context=context))
        commands = Collector()
        node.create_subscription(Float64MultiArray, f'{namespace}/effort_controller/commands',
                                 commands, 10)
        pub = node.create_publisher(JointState, f'{namespace}/joint_states', 10)
        node.create_timer(0.01, lambda: pub.publish(joint_state()))
        got = commands.wait(3, timeout=30, predicate=lambda m: list(m.data) != [0.0])
        names = node.get_node_names_and_namespaces()
        wait_for(lambda: ('liquid_controller', namespace or '/') in
                 node.get_node_names_and_namespaces(), what='node in the graph')
        return got, names
    finally:
        spinner.close()
        rclpy.shutdown(context=context)


@pytest.mark.launch(fixture=python_launch)
def test_python_launch_file_starts_a_controlling_node():
    got, _ = drive()
    assert all(-30.0 <= m.data[0] <= 30.0 for m in got)


@pytest.mark.launch(fixture=yaml_launch)
def test_yaml_launch_file_with_a_namespace():
    got, _ = drive('/robot7')
    assert got
