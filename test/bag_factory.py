"""Recorded runs for the bag-training tests, written as real rosbag2 bags (MCAP through the
project's BagWriter, sqlite3 through rosbags' writer).

The robot is the cart-pole of config/cartpole.yaml (JointState of slider_to_cart and
cart_to_pole in, one effort command out); its state wanders at random and the recorded
command is a saturating linear feedback of the observation, so a network has a clear law to
learn."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from liquid_control.recording.bag import BagWriter, typestore

JOINTS = ('slider_to_cart', 'cart_to_pole')
GAINS = np.array([2.0, 3.0, -20.0, -4.0])
SPREAD = np.array([0.3, 0.5, 0.3, 0.8]) / np.sqrt(0.25)   # stationary std / sqrt(tau / 2)
FORCE_LIMIT = 30.0
JOINT_STATES, COMMANDS, CLOCK = '/joint_states', '/effort_controller/commands', '/clock'


def _types():
    store = typestore()
    t = store.types
    return store, t['sensor_msgs/msg/JointState'], t['std_msgs/msg/Header'], \
        t['builtin_interfaces/msg/Time'], t['std_msgs/msg/Float64MultiArray'], \
        t['std_msgs/msg/MultiArrayLayout'], t['rosgraph_msgs/msg/Clock']


def feedback(x):
    return float(np.clip(-GAINS @ x, -FORCE_LIMIT, FORCE_LIMIT))


def run_messages(seed, seconds=6.0, dt=0.02, jitter=0.2, joint_names=JOINTS, clock=False,
                 command_type='std_msgs/msg/Float64MultiArray', corrupt=None):
    """[(topic, type, time ns, message)] of one run: each tick a JointState, then the command
    answering it. `corrupt(i, position)` may change the positions of tick i."""
    store, JointState, Header, Time, Array, Layout, Clock = _types()
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, [0.3, 0.5, 0.3, 0.8])
    t, out = 1.0, []
    for i in range(int(seconds / dt)):
        stamp = Time(sec=int(t), nanosec=int(round((t % 1) * 1e9)))
        ns = int(round(t * 1e9))
        if clock:
            out.append((CLOCK, 'rosgraph_msgs/msg/Clock', ns, Clock(clock=stamp)))
        position = np.array([x[0], x[2]])
        if corrupt is not None:
            position = corrupt(i, position)
        js = JointState(header=Header(stamp=stamp, frame_id=''), name=list(joint_names),
                        position=position, velocity=np.array([x[1], x[3]]),
                        effort=np.zeros(2))
        out.append((JOINT_STATES, 'sensor_msgs/msg/JointState', ns, js))
        u = feedback(x)
        if command_type == 'std_msgs/msg/Float64MultiArray':
            cmd = Array(layout=Layout(dim=[], data_offset=0), data=np.array([u]))
        else:
            cmd = _twist(u)
        out.append((COMMANDS, command_type, ns + 200_000, cmd))
        step = dt * (1.0 + jitter * rng.uniform(-1, 1))
        # The state wanders (Ornstein-Uhlenbeck, 0.5 s time constant) around 0.
        x = x - step * x / 0.5 + np.sqrt(step) * rng.normal(0.0, SPREAD)
        t += step
    return out


def _twist(u):
    t = typestore().types
    v = t['geometry_msgs/msg/Vector3']
    return t['geometry_msgs/msg/Twist'](linear=v(x=u, y=0.0, z=0.0), angular=v(x=0.0, y=0.0,
                                                                            z=0.0))


def write_bag(path, messages, storage='mcap'):
    """Write messages [(topic, type, ns, msg)] into a new rosbag2 bag at `path`."""
    path = Path(path)
    topics = {}
    for topic, kind, _, _ in messages:
        topics.setdefault(topic, kind)
    if storage == 'mcap':
        with BagWriter(path, topics) as w:
            for topic, _, ns, msg in messages:
                w.write_message(topic, ns, msg)
        return path
    from rosbags.rosbag2 import StoragePlugin, Writer
    store = typestore()
    writer = Writer(path, version=8, storage_plugin=StoragePlugin.SQLITE3)
    with writer:
        conns = {t: writer.add_connection(t, k, typestore=store) for t, k in topics.items()}
        for topic, kind, ns, msg in messages:
            writer.write(conns[topic], ns, store.serialize_cdr(msg, kind))
    return path


def write_runs(folder, n, storage='mcap', **kwargs):
    """n bags folder/run<i>, one run each (seeds 0..n-1)."""
    return [write_bag(Path(folder) / f'run{i}', run_messages(i, **kwargs), storage)
            for i in range(n)]
