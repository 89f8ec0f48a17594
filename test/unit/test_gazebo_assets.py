"""Gazebo assets, checked statically (no Gazebo here): the worlds are well-formed SDF with the
joints, links, frames and systems the controller expects, built like the embedded MuJoCo
robots; the bridge files give exactly the topics and types sim_node speaks; the glue nodes
and the launch resolution; the launch file imports where the launch system exists."""
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from liquid_control.bringup.session import recorded_topics
from liquid_control.bringup.sim_launch import (GAZEBO_LAUNCH_ARGUMENTS, LaunchArgumentError,
                                               gz_sim_launch_file, resolve_gazebo_launch)
from liquid_control.interfaces import BASE_FRAME, ODOM_FRAME, PATH, absolute
from liquid_control.share import share_file
from liquid_control.tasks import get_task

from ros_fixtures import declared_launch_arguments

REPO = Path(__file__).resolve().parents[2]
CARTPOLE, DIFFDRIVE = get_task('cartpole'), get_task('diffdrive')
# Joints in the order JointState lists them (Gazebo's JointStatePublisher order of the SDF,
# sim_node's MJCF order).
CARTPOLE_JOINTS = ('slider_to_cart', 'cart_to_pole')
DIFFDRIVE_WHEEL_JOINTS = ('left_wheel_joint', 'right_wheel_joint')
# ros_gz_bridge's mappings (its README) for the types used here.
GZ_TYPES = {'rosgraph_msgs/msg/Clock': 'gz.msgs.Clock',
            'sensor_msgs/msg/JointState': 'gz.msgs.Model',
            'nav_msgs/msg/Odometry': 'gz.msgs.Odometry',
            'geometry_msgs/msg/Twist': 'gz.msgs.Twist',
            'std_msgs/msg/Float64': 'gz.msgs.Double'}


def world(task):
    root = ET.parse(REPO / 'worlds' / f'{task}.sdf').getroot()
    # SDFormat 1.9+ (expressed_in on joint axes); Gazebo Harmonic reads 1.10/1.11.
    assert root.tag == 'sdf'
    assert tuple(int(v) for v in root.get('version').split('.')) >= (1, 9)
    (w,) = root.findall('world')
    assert w.get('name') == task
    return w


def model(w, name):
    (m,) = [m for m in w.findall('model') if m.get('name') == name]
    return m


def joints(m):
    return {j.get('name'): j for j in m.findall('joint')}


def plugins(element):
    return {p.get('name').rsplit('::', 1)[-1]: p for p in element.findall('plugin')}


def floats(text):
    return [float(v) for v in text.split()]


def bridge(task):
    entries = yaml.safe_load((REPO / 'config' / f'gz_bridge_{task}.yaml').read_text())
    for e in entries:
        assert GZ_TYPES[e['ros_type_name']] == e['gz_type_name'], e
        assert e['direction'] in ('GZ_TO_ROS', 'ROS_TO_GZ')
    return entries


def direction(entries, which):
    return {e['ros_topic_name']: e['ros_type_name'] for e in entries if e['direction'] == which}


def gz_topic(entries, ros_topic):
    (e,) = [e for e in entries if e['ros_topic_name'] == ros_topic]
    return e['gz_topic_name']


def test_worlds_run_the_physics_at_one_millisecond():
    for task in ('cartpole', 'diffdrive'):
        w = world(task)
        assert 'Physics' in plugins(w)
        assert float(w.find('physics/max_step_size').text) == 0.001


def test_cartpole_world_matches_the_mujoco_robot_and_the_controller():
    m = model(world('cartpole'), 'cartpole')
    js = joints(m)
    slider, hinge = js['slider_to_cart'], js['cart_to_pole']
    assert (slider.get('type'), slider.find('parent').text, slider.find('child').text) == \
        ('prismatic', 'rail', 'cart')
    assert floats(slider.find('axis/xyz').text) == [1, 0, 0]
    limit = slider.find('axis/limit')
    assert (float(limit.find('lower').text), float(limit.find('upper').text)) == (-2.4, 2.4)
    assert float(limit.find('effort').text) == CARTPOLE.action_high[0]
    assert (hinge.get('type'), hinge.find('parent').text, hinge.find('child').text) == \
        ('revolute', 'cart', 'pole')
    assert floats(hinge.find('axis/xyz').text) == [0, 1, 0]
    assert js['world_to_rail'].find('parent').text == 'world'
    # Masses and the pole's length as in the MuJoCo model.
    mj = ET.parse(CARTPOLE.mjcf).getroot()
    mj_geoms = {g.get('name'): g for g in mj.iter('geom')}
    links = {link.get('name'): link for link in m.findall('link')}
    assert float(links['cart'].find('inertial/mass').text) == float(mj_geoms['cart'].get('mass'))
    assert float(links['pole'].find('inertial/mass').text) == float(mj_geoms['pole'].get('mass'))
    pole_length = floats(mj_geoms['pole'].get('fromto'))[5]
    assert float(links['pole'].find('visual/geometry/cylinder/length').text) == pole_length
    assert floats(links['pole'].find('inertial/pose').text)[2] == pole_length / 2
    # Joint states of both joints, in the order sim_node publishes them; force on the cart.
    p = plugins(m)
    assert tuple(j.text for j in p['JointStatePublisher'].findall('joint_name')) == \
        CARTPOLE_JOINTS
    assert p['ApplyJointForce'].find('joint_name').text == 'slider_to_cart'


def test_diffdrive_world_matches_the_mujoco_robot_and_the_controller():
    m = model(world('diffdrive'), 'diffdrive')
    assert m.findall('link')[0].get('name') == BASE_FRAME        # the canonical link
    js = joints(m)
    for name in DIFFDRIVE_WHEEL_JOINTS:
        assert js[name].get('type') == 'revolute'
        assert js[name].find('parent').text == BASE_FRAME
        assert floats(js[name].find('axis/xyz').text) == [0, 1, 0]
    p = plugins(m)
    drive = p['DiffDrive']
    assert (drive.find('left_joint').text, drive.find('right_joint').text) == \
        DIFFDRIVE_WHEEL_JOINTS
    mj = ET.parse(DIFFDRIVE.mjcf).getroot()
    mj_bodies = {b.get('name'): b for b in mj.iter('body')}
    mj_geoms = {g.get('name'): g for g in mj.iter('geom')}
    assert float(drive.find('wheel_radius').text) == floats(mj_geoms['left_wheel'].get('size'))[0]
    assert float(drive.find('wheel_separation').text) == pytest.approx(
        2 * floats(mj_bodies['left_wheel'].get('pos'))[1])
    assert float(drive.find('max_linear_velocity').text) == DIFFDRIVE.action_high[0]
    assert float(drive.find('min_linear_velocity').text) == DIFFDRIVE.action_low[0]
    assert float(drive.find('max_angular_velocity').text) == DIFFDRIVE.action_high[1]
    odom = p['OdometryPublisher']
    assert (odom.find('odom_frame').text, odom.find('robot_base_frame').text) == \
        (ODOM_FRAME, BASE_FRAME)
    assert tuple(j.text for j in p['JointStatePublisher'].findall('joint_name')) == \
        DIFFDRIVE_WHEEL_JOINTS
    # The bridge reads and writes the topics these systems use.
    entries = bridge('diffdrive')
    assert gz_topic(entries, '/odom') == odom.find('odom_topic').text
    assert gz_topic(entries, '/cmd_vel') == drive.find('topic').text
    assert gz_topic(entries, '/joint_states') == '/world/diffdrive/model/diffdrive/joint_state'


def published(task):
    """{absolute topic: type} that sim_node publishes for the task (/clock and outputs)."""
    command = absolute(get_task(task).sim_io.command.topic)
    return {t: kind for t, kind in recorded_topics(task).items()
            if t not in (command, '/diagnostics')}


def test_bridges_speak_exactly_what_sim_node_speaks():
    cart = bridge('cartpole')
    assert direction(cart, 'GZ_TO_ROS') == published('cartpole')
    # The effort command goes through liquid_effort_relay: it takes what sim_node takes and
    # gives the bridge a Float64 for ApplyJointForce.
    command = CARTPOLE.sim_io.command
    assert (command.topic, command.msg_type) == ('effort_controller/commands',
                                                 'std_msgs/msg/Float64MultiArray')
    (relay,) = CARTPOLE.gazebo.helpers
    force = absolute(relay.parameters['output_topic'])
    assert direction(cart, 'ROS_TO_GZ') == {force: 'std_msgs/msg/Float64'}
    assert gz_topic(cart, force) == '/model/cartpole/joint/slider_to_cart/cmd_force'
    assert gz_topic(cart, '/joint_states') == '/world/cartpole/model/cartpole/joint_state'

    drive = bridge('diffdrive')
    # /plan comes from liquid_path (Gazebo has no planner).
    assert {**direction(drive, 'GZ_TO_ROS'), '/plan': PATH} == published('diffdrive')
    command = DIFFDRIVE.sim_io.command
    assert direction(drive, 'ROS_TO_GZ') == {absolute(command.topic): command.msg_type}


def test_effort_relay_rejects_invalid_commands_and_clips():
    from liquid_control.nodes.effort_relay_node import relay_value
    (relay,) = CARTPOLE.gazebo.helpers
    low, high = relay.parameters['low'], relay.parameters['high']
    assert (low, high) == (CARTPOLE.action_low[0], CARTPOLE.action_high[0])
    assert relay_value([12.5], low, high) == 12.5
    assert relay_value([1e9], low, high) == high
    assert relay_value([-1e9], low, high) == low
    for bad in ([], [1.0, 2.0], [math.nan], [math.inf]):
        assert relay_value(bad, low, high) is None


def test_path_publisher_path_starts_at_the_robot():
    pytest.importorskip('rclpy')
    from liquid_control.nodes.path_node import make_path
    from liquid_control.sim.paths import path_length
    a, b = make_path(4), make_path(4)
    assert (a == b).all() and a[0].tolist() == [0.0, 0.0]
    heading = math.atan2(a[1, 1] - a[0, 1], a[1, 0] - a[0, 0])
    assert abs(heading) < 0.05                      # leaves straight ahead of the robot
    assert 6.0 <= path_length(a) <= 10.1


def test_gazebo_launch_resolution():
    defaults = {a.name: a.default for a in GAZEBO_LAUNCH_ARGUMENTS}
    for task in ('cartpole', 'diffdrive'):
        plan = resolve_gazebo_launch({**defaults, 'task': task, 'controller': 'gru'})
        assert plan.world.is_file() and plan.bridge_config.is_file()
        assert plan.gz_args.startswith('-r ') and plan.gz_args.endswith(f'{task}.sdf')
        assert plan.controller_arguments['use_sim_time'] == 'true'
        assert plan.controller_arguments['controller'] == 'gru'
        assert plan.controller_launch_file == share_file('launch', 'controller.launch.py')
        assert plan.bridge_node_kwargs()['parameters'][0]['config_file'] == \
            str(plan.bridge_config)
        (helper,) = plan.helpers
        kwargs = helper.node_kwargs()
        # A console script of this package (setup.py), run through launch_ros.
        assert kwargs['package'] == 'liquid_control'
        assert f"{kwargs['executable']} = liquid_control.nodes.{kwargs['executable']}:main" in \
            (REPO / 'setup.py').read_text()
        assert kwargs['parameters'][0]['use_sim_time'] is True
        assert helper.required        # the launch ends if it exits (see the launch file)
    seeded = resolve_gazebo_launch({**defaults, 'task': 'diffdrive', 'seed': '7'})
    assert seeded.helpers[0].parameters['seed'] == 7
    headless = resolve_gazebo_launch({**defaults, 'gui': 'false'})
    assert ' -s ' in headless.gz_args
    for bad in ({'task': 'nope'}, {'gui': 'maybe'}, {'task': 'diffdrive', 'seed': 'x'}):
        with pytest.raises(ValueError):
            resolve_gazebo_launch({**defaults, **bad})


def test_gazebo_launch_file_imports_where_launch_exists():
    pytest.importorskip('launch')
    pytest.importorskip('launch_ros')
    pytest.importorskip('ament_index_python')
    names = declared_launch_arguments(REPO / 'launch' / 'gazebo.launch.py')
    assert {a.name for a in GAZEBO_LAUNCH_ARGUMENTS} <= names


def test_missing_ros_gz_says_what_to_install():
    def without_ros_gz(package):
        raise LookupError(package)

    with pytest.raises(LaunchArgumentError) as error:
        gz_sim_launch_file(without_ros_gz, distro='kilted')
    message = str(error.value)
    assert 'ros_gz_sim and ros_gz_bridge are not installed' in message
    assert 'sudo apt install ros-kilted-ros-gz' in message and 'sim.launch.py' in message
    assert '$ROS_DISTRO' in str(pytest.raises(LaunchArgumentError, gz_sim_launch_file,
                                              without_ros_gz, distro='').value)
    shares = {'ros_gz_sim': '/opt/ros/kilted/share/ros_gz_sim',
              'ros_gz_bridge': '/opt/ros/kilted/share/ros_gz_bridge'}
    assert gz_sim_launch_file(shares.__getitem__) == \
        Path('/opt/ros/kilted/share/ros_gz_sim/launch/gz_sim.launch.py')
