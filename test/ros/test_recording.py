"""Recordings: the rosbag2 MCAP bag written with `rosbags` reads back with rosbags' reader
and holds exactly what was published; run analysis and the plot work from it."""
import math

import numpy as np
import pytest
import yaml

from liquid_control.bringup.session import recorded_topics
from liquid_control.recording.bag import BagWriter, bag_info, read_bag, read_raw, typestore

MCAP_MAGIC = b'\x89MCAP0\r\n'


def test_bag_round_trip_without_ros(tmp_path):
    store = typestore()
    JointState = store.types['sensor_msgs/msg/JointState']
    Header = store.types['std_msgs/msg/Header']
    Time = store.types['builtin_interfaces/msg/Time']
    msgs = [JointState(header=Header(stamp=Time(sec=i, nanosec=7), frame_id=''),
                       name=['slider_to_cart', 'cart_to_pole'],
                       position=np.array([0.1 * i, math.pi]),
                       velocity=np.array([0.0, -1.5]), effort=np.array([2.0, 0.0]))
            for i in range(5)]
    with BagWriter(tmp_path / 'bag', {'/joint_states': 'sensor_msgs/msg/JointState'}) as w:
        for i, m in enumerate(msgs):
            w.write_message('/joint_states', 1_000 + i, m)
    back = list(read_bag(tmp_path / 'bag'))
    assert [(t, ty, ts) for t, ty, ts, _ in back] == [
        ('/joint_states', 'sensor_msgs/msg/JointState', 1_000 + i) for i in range(5)]
    for (_, _, _, got), sent in zip(back, msgs):
        assert got.header.stamp.sec == sent.header.stamp.sec
        assert list(got.name) == sent.name
        np.testing.assert_array_equal(got.position, sent.position)
    # What `ros2 bag info` reads: rosbag2 metadata of an MCAP bag with CDR messages.
    meta = yaml.safe_load((tmp_path / 'bag' / 'metadata.yaml').read_text())
    info = meta['rosbag2_bagfile_information']
    assert info['storage_identifier'] == 'mcap' and info['message_count'] == 5
    topic = info['topics_with_message_count'][0]['topic_metadata']
    assert topic['type'] == 'sensor_msgs/msg/JointState'
    assert topic['serialization_format'] == 'cdr'
    mcap = tmp_path / 'bag' / info['relative_file_paths'][0]
    assert mcap.read_bytes()[:8] == MCAP_MAGIC
    assert bag_info(tmp_path / 'bag')['topics'] == {
        '/joint_states': ('sensor_msgs/msg/JointState', 5)}
    with pytest.raises(FileExistsError):
        BagWriter(tmp_path / 'bag', {})


def test_every_recorded_topic_type_is_known_to_the_bag_typestore():
    store = typestore()
    for task in ('cartpole', 'diffdrive'):
        for type_name in recorded_topics(task).values():
            assert type_name in store.types


def test_sensor_messages_the_bag_lacks_are_counted_and_reported():
    from liquid_control.recording.analysis import format_summary, sensor_messages_missing
    from liquid_control.tasks import get_task
    task = get_task('diffdrive')
    status = {'sensor_messages_published': '3072'}     # as the simulator's diagnostics say
    whole = {'/clock': 1545, '/joint_states': 1545, '/odom': 1545, '/plan': 40}
    assert sensor_messages_missing(task, whole, status) == 0
    # The latched path and /clock are not sensor messages: only the measured outputs count.
    starved = {'/clock': 1079, '/joint_states': 1078, '/odom': 1079, '/plan': 4000}
    assert sensor_messages_missing(task, starved, status) == 3072 - 1078 - 1079
    assert sensor_messages_missing(task, starved, {}) == 0        # no count: nothing known
    summary = {'task': 'diffdrive', 'simulator': {}, 'loop_timing': {},
               'episode': {'success': True, 'episode_time_s': 30.7, 'tracking_error': 0.01,
                           'max_tracking_error': 0.09},
               'commands': {'count': 1069, 'non_finite': 0, 'out_of_limits': 0},
               'recording': {'messages': starved, 'sensor_messages_missing': 915}}
    assert 'INCOMPLETE: 915 sensor messages' in format_summary(summary)
    summary['recording']['sensor_messages_missing'] = 0
    assert 'INCOMPLETE' not in format_summary(summary)


@pytest.mark.slow
def test_live_recording_matches_what_was_published(tmp_path):
    """A lockstep run recorded by the run's recorder and, independently, by a raw
    subscriber of this test: the bag holds the same serialized messages in the same order,
    and its CDR bytes deserialize with rclpy to the simulator's messages."""
    pytest.importorskip('mujoco')
    pytest.importorskip('rclpy')
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import JointState

    from liquid_control.bringup.session import SimSession
    from liquid_control.recording.analysis import load_run, summarize_run
    from liquid_control.recording.plot import plot_run
    from liquid_control.recording.recorder import subscription_qos

    session = SimSession(tmp_path, task='cartpole', controller='expert', mode='lockstep',
                         duration=2.0, seed=1)
    received = []
    session.launch()
    try:
        sub = session.node.create_subscription(JointState, '/joint_states', received.append,
                                               subscription_qos(depth=1000), raw=True)
        session.wait_connected()
        assert session.wait_for(lambda: sub.get_publisher_count() >= 1, 20.0)
        received.clear()       # from here on, both have been receiving the same stream
        session.set_sim_parameters(paused=False)
        assert session.run_to_end()
    finally:
        session.stop()
    recorded = [data for topic, _, data in read_raw(session.bag_path, ['/joint_states'])]
    assert len(received) >= 100
    # The recorder started earlier (it also holds the paused start-up): the test's stream
    # is the bag's tail, message for message.
    assert len(received) >= 10
    assert recorded[-len(received):] == [bytes(d) for d in received]
    msgs = [deserialize_message(d, JointState) for d in recorded[-len(received):]]
    stamps = [m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in msgs]
    assert all(list(m.name) == ['slider_to_cart', 'cart_to_pole'] for m in msgs)
    assert np.all(np.diff(stamps) >= 0)

    run = load_run(session.bag_path, 'cartpole')
    summary = summarize_run(run, session.bag_path)
    assert summary['episode']['finished']
    assert summary['commands'] == {**summary['commands'], 'non_finite': 0, 'out_of_limits': 0}
    assert summary['recording']['messages']['/joint_states'] == len(recorded)
    assert summary['recording']['sensor_messages_missing'] == 0
    png = plot_run(run, tmp_path / 'plot.png', title='test')
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 20_000


RECORD_UNTIL_THE_DISK_IS_FULL = '''
import json, resource, signal, sys, time
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # then a write past the limit fails: EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import Float64MultiArray
from liquid_control.recording.bag import BagWriter
from liquid_control.recording.recorder import TopicRecorder
N = 300
topics = {'/big': 'std_msgs/msg/Float64MultiArray'}
context = rclpy.Context()
rclpy.init(context=context)
node = rclpy.create_node('recorder_under_test', context=context)
writer = BagWriter(sys.argv[1], topics)
seen = []
recorder = TopicRecorder(node, writer, topics, on_message=lambda *a: seen.append(1))
pub = node.create_publisher(Float64MultiArray, '/big',
                            QoSProfile(depth=N, reliability=ReliabilityPolicy.RELIABLE))
executor = SingleThreadedExecutor(context=context)
executor.add_node(node)
deadline = time.monotonic() + 30
while pub.get_subscription_count() < 1 and time.monotonic() < deadline:
    executor.spin_once(timeout_sec=0.05)
for i in range(N):                                  # 8 kB each: 2.4 MB in all
    pub.publish(Float64MultiArray(data=[float(i)] * 1000))
    executor.spin_once(timeout_sec=0.0)
while len(seen) < N and time.monotonic() < deadline:
    executor.spin_once(timeout_sec=0.05)
try:
    writer.close()
    close_error = ''
except OSError as exc:
    close_error = str(exc)
print(json.dumps({'error': recorder.error, 'seen': len(seen),
                  'written': writer.counts['/big'], 'close_error': close_error}))
'''


def test_a_full_disk_stops_the_recording_not_the_run(tmp_path):
    # A real write error: the child's file-size limit makes the bag's writes fail with EFBIG,
    # as a full disk fails them with ENOSPC.
    import json
    import subprocess
    import sys
    out = subprocess.run([sys.executable, '-c', RECORD_UNTIL_THE_DISK_IS_FULL,
                          str(tmp_path / 'bag')], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert 'writing the bag failed' in result['error'] and 'too large' in result['error']
    assert result['seen'] == 300                     # the live view went on to the end
    assert 0 < result['written'] < 300               # what fitted was stored, then it stopped
    assert 'recording stopped, the run goes on' in out.stderr
