"""sim_node as a separate process over DDS: the topics, types and frames a Gazebo +
ros_gz_bridge setup gives, command handling (invalid ones rejected and counted, hold, zero
after the timeout), the reset service, pausing, and the noise / latency / drop parameters
seen from a subscriber. Runs without a controller: the test is the command publisher."""
import math

import numpy as np
import pytest

pytest.importorskip('mujoco')
pytest.importorskip('rclpy')

from liquid_control.bringup.session import SimSession, recorded_topics
from liquid_control.interfaces import CLOCK, DIAGNOSTICS, absolute, message_class
from liquid_control.recording.analysis import load_run
from liquid_control.recording.bag import read_bag
from liquid_control.tasks import get_task

pytestmark = pytest.mark.slow   # seconds each (processes, training): not in the fast loop

TIMEOUT = 20.0
JOINT_STATES, ODOM, PLAN = '/joint_states', '/odom', '/plan'


def sim_value(session, key):
    return session.live.sim_status.get(key)


def wait_sim(session, predicate, what, timeout=TIMEOUT):
    """Wait until predicate(sim diagnostics dict) holds."""
    assert session.wait_for(lambda: bool(session.live.sim_status) and
                            predicate(session.live.sim_status), timeout), \
        f'{what}; last sim diagnostics: {session.live.sim_status}'


def command_publisher(session, task='cartpole'):
    """A publisher on the task's command topic, matched with the simulator's subscription."""
    command = get_task(task).sim_io.command
    pub = session.node.create_publisher(message_class(command.msg_type),
                                        absolute(command.topic), 10)
    # Matched from both ends: the simulator's subscription and this publisher (which also
    # reaches the recorder). Before that, a message may reach no one.
    wait_sim(session, lambda s: int(s['command_publishers']) >= 1 and
             pub.get_subscription_count() >= 2,
             'the simulator and the command publisher never matched')
    return pub


def test_cartpole_topics_commands_timeout_reset_and_pause(tmp_path):
    from std_msgs.msg import Float64MultiArray

    session = SimSession(tmp_path, task='cartpole', controller=None, mode='realtime',
                         duration=0.0, sim_params={'command_timeout_s': 0.2, 'end_on_done': False,
                                                   'real_time_factor': 2.0})
    with session:
        node = session.node
        # The graph: who publishes what, with which type.
        command = absolute(get_task('cartpole').sim_io.command.topic)
        published = {t: kind for t, kind in recorded_topics('cartpole').items()
                     if t not in (command, DIAGNOSTICS)}
        assert published == {CLOCK: 'rosgraph_msgs/msg/Clock',
                             JOINT_STATES: 'sensor_msgs/msg/JointState'}
        for topic, type_name in published.items():
            infos = node.get_publishers_info_by_topic(topic)
            assert [(i.node_name, i.topic_type) for i in infos] == [('liquid_sim', type_name)]
        subs = node.get_subscriptions_info_by_topic('/effort_controller/commands')
        assert [i.topic_type for i in subs if i.node_name == 'liquid_sim'] == [
            'std_msgs/msg/Float64MultiArray']

        pub = command_publisher(session)
        for bad in ([math.nan], [1.0, 2.0], [], [math.inf]):
            pub.publish(Float64MultiArray(data=bad))
        pub.publish(Float64MultiArray(data=[2.5]))
        wait_sim(session, lambda s: s['commands_received'] == '1' and
                 s['commands_rejected'] == '4' and s['running'] == 'true',
                 'invalid commands not rejected / valid one not applied')
        assert sim_value(session, 'held_command') == '[2.5]'
        # Silence: after command_timeout_s the actuator gets zero.
        wait_sim(session, lambda s: s['command_timeouts'] == '1' and
                 s['command_timed_out'] == 'true', 'no command timeout')

        # Pause: the clock stops.
        session.set_sim_parameters(paused=True)
        wait_sim(session, lambda s: s['paused'] == 'true', 'not paused')
        # The simulator's own report of the frozen time: /clock messages sent before the
        # pause may still be in flight when the paused diagnostics arrive.
        frozen = float(sim_value(session, 'sim_time'))
        seen = session.live.messages
        assert session.wait_for(lambda: session.live.messages >= seen + 3, TIMEOUT)
        wait_sim(session, lambda s: s['paused'] == 'true' and float(s['sim_time']) == frozen
                 and abs(session.live.sim_time - frozen) < 1e-6, 'clock moved while paused')
        session.set_sim_parameters(paused=False)
        wait_sim(session, lambda s: float(s['sim_time']) > frozen + 0.2, 'did not resume')

        # Reset: a new episode, the clock keeps going forward.
        before = session.live.sim_time
        response = session.reset_episode()
        assert response.success, response.message
        assert 'episode 1' in response.message
        wait_sim(session, lambda s: s['episode'] == '1', 'no new episode')
        assert session.live.sim_time >= before

    # What was recorded: JointState of both joints, efforts as applied, clock monotonic.
    states = [(t, m) for topic, _, t, m in read_bag(session.bag_path, [JOINT_STATES])]
    assert states and all(list(m.name) == ['slider_to_cart', 'cart_to_pole']
                          for _, m in states)
    efforts = [m.effort[0] for _, m in states]
    assert 2.5 in efforts and efforts[-1] == 0.0
    assert set(efforts) <= {0.0, 2.5}
    clock = [m.clock.sec + m.clock.nanosec * 1e-9
             for _, _, _, m in read_bag(session.bag_path, [CLOCK])]
    assert len(clock) > 10 and np.all(np.diff(clock) >= 0)


def publication_log(session):
    """Collect (topic, sim time in the message, DDS source timestamp) of /clock and
    /joint_states: the source timestamp is taken by the publisher when it sends, so the
    order in which they were published survives any backlog in this process."""
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import JointState

    from liquid_control.recording.recorder import subscription_qos
    log = []

    def stamp(t):
        return t.sec + t.nanosec * 1e-9

    session.node.create_subscription(
        Clock, CLOCK, lambda m, info: log.append((CLOCK, stamp(m.clock),
                                                  info['source_timestamp'])),
        subscription_qos(depth=1000))
    session.node.create_subscription(
        JointState, JOINT_STATES, lambda m, info: log.append((JOINT_STATES,
                                                             stamp(m.header.stamp),
                                                             info['source_timestamp'])),
        subscription_qos(depth=1000))
    return log


def test_noise_latency_and_drops_take_effect(tmp_path):
    """Physics paused (no controller), clock running: every difference between recorded
    samples is the sensor model's. Parameters are changed at run time."""
    session = SimSession(tmp_path, task='cartpole', controller=None, mode='realtime',
                         duration=0.0, seed=5,
                         sim_params={'publish_rate_hz': 100.0, 'real_time_factor': 2.0})
    with session:
        log = publication_log(session)
        wait_sim(session, lambda s: float(s['sim_time']) > 1.0, 'no clean phase')
        session.set_sim_parameters(position_noise_std=0.01, velocity_noise_std=0.05,
                                   sensor_latency_s=0.05, drop_probability=0.3)
        start = session.live.sim_time
        wait_sim(session, lambda s: float(s['sim_time']) > start + 4.0, 'no faulty phase',
                 timeout=30.0)
        final = dict(session.live.sim_status)
    # Latency: a sample stamped t goes out just before the /clock of t + latency. Each
    # sample is matched with the first /clock sent after it (by the publisher's send time).
    log = sorted(log, key=lambda e: e[2])
    lags, pending = [], []
    for topic, value, _ in log:
        if topic == JOINT_STATES:
            pending.append(value)
        else:
            lags += [(t, round(value - t, 6)) for t in pending]
            pending = []
    changed = min(t for t, lag in lags if lag > 0)    # the first sample measured after it
    assert changed >= start - 1.0
    before = {lag for t, lag in lags if t < changed}
    after = {lag for t, lag in lags if t >= changed}
    assert before == {0.0} and after == {0.05}, (before, after)

    run = load_run(session.bag_path, 'cartpole')
    times, cart = run.signals['slider_to_cart.position']
    _, pole_rate = run.signals['cart_to_pole.velocity']
    clean = times < changed - 0.02
    faulty = times > changed + 0.1
    assert clean.sum() > 50 and faulty.sum() > 200
    # Noise: none before, the configured spread after.
    assert np.ptp(cart[clean]) == 0.0
    assert np.std(cart[faulty]) == pytest.approx(0.01, rel=0.2)
    assert np.std(pole_rate[faulty]) == pytest.approx(0.05, rel=0.2)
    # Drops: about 30% of the samples after the change are missing, as the node counts.
    grid = np.round(times[faulty] / 0.01).astype(int)
    expected = grid[-1] - grid[0] + 1
    assert len(grid) / expected == pytest.approx(0.7, abs=0.08)
    dropped, published = (int(final['sensor_messages_dropped']),
                          int(final['sensor_messages_published']))
    assert dropped / (dropped + published - clean.sum()) == pytest.approx(0.3, abs=0.08)


def test_diffdrive_odometry_path_and_twist(tmp_path):
    from geometry_msgs.msg import Twist

    session = SimSession(tmp_path, task='diffdrive', controller=None, mode='realtime',
                         duration=0.0, sim_params={'real_time_factor': 2.0})
    with session:
        pub = command_publisher(session, 'diffdrive')
        bad = Twist()
        bad.linear.x = math.nan
        pub.publish(bad)
        good = Twist()
        good.linear.x, good.angular.z = 0.5, 0.3
        pub.publish(good)
        wait_sim(session, lambda s: s['commands_rejected'] == '1' and
                 s['held_command'] == '[0.5, 0.3]', 'twist handling')
        wait_sim(session, lambda s: float(s['episode_time']) > 1.0, 'robot did not move')
        pub.publish(Twist())
        wait_sim(session, lambda s: s['held_command'] == '[0, 0]', 'stop not applied')
    msgs = {}
    for topic, type_name, _, m in read_bag(session.bag_path, [ODOM, PLAN, JOINT_STATES]):
        msgs.setdefault(topic, []).append((type_name, m))
    odom_type, odom = msgs[ODOM][-1]
    assert odom_type == 'nav_msgs/msg/Odometry'
    assert (odom.header.frame_id, odom.child_frame_id) == ('odom', 'base_link')
    path_type, path = msgs[PLAN][-1]
    assert path_type == 'nav_msgs/msg/Path' and path.header.frame_id == 'odom'
    assert len(path.poses) > 100 and path.poses[0].header.frame_id == 'odom'
    assert list(msgs[JOINT_STATES][-1][1].name) == ['left_wheel_joint', 'right_wheel_joint']
    # It drove forward along a left turn: body-frame twist as commanded, then stopped.
    speeds = [(m.twist.twist.linear.x, m.twist.twist.angular.z) for _, m in msgs[ODOM]]
    assert max(v for v, _ in speeds) == pytest.approx(0.5, abs=0.1)
    assert max(w for _, w in speeds) == pytest.approx(0.3, abs=0.1)


def test_an_mjcf_file_without_a_task_as_a_node(tmp_path):
    """sim_node model_file:= publishes /joint_states for every joint and /clock, and takes
    one effort per actuator on /effort_controller/commands, as a JointGroupEffortController
    would; a command of the wrong length is refused and counted."""
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from liquid_control.bringup.processes import NodeProcess, isolated_environment, node_command
    from liquid_control.recording.recorder import subscription_qos

    from ros_fixtures import ROBOTS, Collector, Spinner, wait_for

    arm = ROBOTS / 'arm.xml'
    env = isolated_environment(log_dir=tmp_path / 'ros_log')
    sim = NodeProcess('sim_node', node_command('sim_node', {
        'model_file': str(arm), 'mode': 'realtime', 'real_time_factor': 2.0,
        'command_timeout_s': 0.0}), env, tmp_path / 'sim.log')
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(env['ROS_DOMAIN_ID']))
    spinner = Spinner(context)
    try:
        node = spinner.add(rclpy.create_node('arm_test', context=context))
        states, clocks, diags = Collector(), Collector(), Collector()
        node.create_subscription(JointState, JOINT_STATES, states, subscription_qos())
        node.create_subscription(Clock, CLOCK, clocks, subscription_qos())
        node.create_subscription(DiagnosticArray, DIAGNOSTICS, diags, subscription_qos())
        pub = node.create_publisher(Float64MultiArray, '/effort_controller/commands', 10)
        first = states.wait(1, timeout=TIMEOUT, since=0)[0]
        clocks.wait(1, timeout=TIMEOUT, since=0)
        assert list(first.name) == ['shoulder', 'elbow', 'wrist']
        assert list(first.position) == [0.0, 0.0, 0.0]        # waits for the first command
        assert sim.alive, sim.tail()
        wait_for(lambda: pub.get_subscription_count() >= 1, TIMEOUT, 'sim_node subscribing')
        pub.publish(Float64MultiArray(data=[1.0]))           # one value for two actuators
        pub.publish(Float64MultiArray(data=[50.0, 1.5]))     # the shoulder's limit is 5
        moved = states.wait(1, timeout=TIMEOUT, predicate=lambda m: m.effort[0] != 0.0)[0]
        assert list(moved.effort)[:2] == pytest.approx([5.0, 3.0])    # gear 2 at the elbow
        status = diags.wait(1, timeout=TIMEOUT, predicate=lambda m: any(
            kv.key == 'commands_rejected' and kv.value == '1'
            for s in m.status for kv in s.values))[0].status[0]
        values = {kv.key: kv.value for kv in status.values}
        assert values['task'] == 'arm' and values['commands_clipped'] == '1'
    finally:
        spinner.close()
        rclpy.try_shutdown(context=context)
        code = sim.stop()
    assert code == 0, sim.tail()


def test_repeated_sigint_ends_sim_node_cleanly(tmp_path):
    """Ctrl-C under `ros2 launch` signals a node twice; every one of a burst of SIGINTs must
    leave sim_node exiting 0 (see node_process_support.interrupt_until_exit)."""
    import rclpy
    from rosgraph_msgs.msg import Clock

    from liquid_control.bringup.processes import NodeProcess, isolated_environment, node_command
    from liquid_control.recording.recorder import subscription_qos

    from ros_fixtures import Collector, Spinner
    from node_process_support import interrupt_until_exit

    env = isolated_environment(log_dir=tmp_path / 'ros_log')
    sim = NodeProcess('sim_node', node_command('sim_node', {'task': 'cartpole'}), env,
                      tmp_path / 'sim.log')
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(env['ROS_DOMAIN_ID']))
    spinner = Spinner(context)
    try:
        node = spinner.add(rclpy.create_node('sigint_test', context=context))
        clocks = Collector()
        node.create_subscription(Clock, CLOCK, clocks, subscription_qos())
        clocks.wait(3, timeout=TIMEOUT, since=0)          # up and simulating
        assert interrupt_until_exit(sim.proc) == 0, sim.tail()
    finally:
        spinner.close()
        rclpy.try_shutdown(context=context)
        sim.stop()
    assert 'Traceback' not in sim.tail()
