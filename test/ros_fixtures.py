"""Helpers for the controller node tests: task-shaped test models, an rclpy context per test
module, and waiting on ROS events without sleeping.

Models come from model_factory (no torch, no training): a GRU or CfC with the obs/action names
of a task, so the node's mapping accepts them exactly as it would a shipped model.
"""
from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from liquid_control.bringup.processes import node_command as package_node_command
from liquid_control.control.params import read_params_file
from liquid_control.tasks import get_task

from model_factory import build_model, default_metadata

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / 'config'
ROBOTS = Path(__file__).resolve().parent / 'robots'   # MJCF files of test robots


def build_task_model(path, task='cartpole', cell='gru', seed=0, obs_names=None,
                     action_names=None, n_hidden=8):
    """A contract-valid model for `task` (its obs/action names and limits) at `path`."""
    spec = get_task(task)
    obs_names = tuple(obs_names or spec.obs_names)
    action_names = tuple(action_names or spec.action_names)
    probe = build_model(path, cell=cell, n_obs=len(obs_names), n_hidden=n_hidden,
                        n_act=len(action_names), seed=seed)
    meta = default_metadata(probe, task=task, obs_names=obs_names, action_names=action_names,
                            action_low=spec.action_low if action_names == spec.action_names
                            else tuple(-10.0 for _ in action_names),
                            action_high=spec.action_high if action_names == spec.action_names
                            else tuple(10.0 for _ in action_names))
    build_model(path, cell=cell, n_obs=len(obs_names), n_hidden=n_hidden,
                n_act=len(action_names), seed=seed, metadata=meta)
    return Path(path)


@pytest.fixture(scope='session')
def task_models(tmp_path_factory):
    """{name: path} of test models: cartpole_{gru,cfc}, diffdrive_{gru,cfc}, and a cart-pole
    model whose observation names do not match the cart-pole mapping."""
    d = tmp_path_factory.mktemp('models')
    models = {}
    for task in ('cartpole', 'diffdrive'):
        for seed, cell in enumerate(('gru', 'cfc')):
            models[f'{task}_{cell}'] = build_task_model(d / f'{task}_{cell}.onnx', task, cell,
                                                        seed=seed)
    models['cartpole_mismatch'] = build_task_model(
        d / 'cartpole_mismatch.onnx', 'cartpole', 'gru',
        obs_names=('cart.x', 'cart.v', 'pole.theta', 'pole.omega'))
    return models


@pytest.fixture(scope='module')
def ros_context():
    """An initialised rclpy context for one test module (the conftest's ROS_DOMAIN_ID)."""
    import rclpy
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


@pytest.fixture
def ros(ros_context):
    """A spinning executor with a helper node for publishers and subscribers; `start(params)`
    adds a ControllerNode with those parameter overrides, shut down safely at the end."""
    import rclpy

    from liquid_control.nodes.controller_node import ControllerNode
    spinner = Spinner(ros_context)
    helper = spinner.add(rclpy.create_node('test_helper', context=ros_context))
    nodes = []

    def start(params, **kwargs):
        node = ControllerNode(context=ros_context, parameter_overrides=params, **kwargs)
        nodes.append(node)
        return spinner.add(node)

    yield helper, start
    spinner.close()
    assert not spinner.errors, spinner.errors
    for node in nodes:
        node.shutdown_safely()
        node.destroy_node()
    helper.destroy_node()


def reliable_qos():
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    return QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def commands(helper, topic='/effort_controller/commands', msg_type=None):
    """A Collector of the commands on `topic` (Float64MultiArray unless `msg_type`)."""
    if msg_type is None:
        from std_msgs.msg import Float64MultiArray as msg_type
    collector = Collector()
    helper.create_subscription(msg_type, topic, collector, reliable_qos())
    return collector


class Spinner:
    """An executor spinning on a background thread, with helpers to wait for conditions."""

    def __init__(self, context):
        from rclpy.executors import SingleThreadedExecutor
        self.executor = SingleThreadedExecutor(context=context)
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self):
        while not self._stop.is_set():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception as exc:   # a callback raised: keep spinning, let the test see it
                self.errors.append(exc)

    def add(self, node):
        self.executor.add_node(node)
        self.executor.wake()
        return node

    def remove(self, node):
        self.executor.remove_node(node)

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.executor.shutdown()


def wait_for(predicate, timeout=10.0, what='condition'):
    """Wait until predicate() is true (polled on a condition variable tick); fail on timeout."""
    deadline = time.monotonic() + timeout
    event = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout:g} s waiting for {what}')
        event.wait(0.01)
    return True


def call(spinner_or_none, client, request, timeout=10.0, attempt_timeout=None):
    """Call a service and wait for its response (the client's node must be spinning).

    With attempt_timeout, an unanswered request is sent again until `timeout`: only for
    requests that are safe to repeat. Right after discovery a response can be lost (the
    server may not yet have matched the client's response reader), so tests first make one
    repeatable call on each client (see Remote.warm_up in node_process_support).
    """
    assert client.wait_for_service(timeout_sec=timeout), f'{client.srv_name} not available'
    deadline = time.monotonic() + timeout
    while True:
        future = client.call_async(request)
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        left = deadline - time.monotonic()
        if done.wait(min(attempt_timeout or left, max(left, 0.0))):
            return future.result()
        client.remove_pending_request(future)
        if attempt_timeout is None or time.monotonic() >= deadline:
            raise AssertionError(f'no response from {client.srv_name}')


class Collector:
    """Subscription callback that keeps messages and lets tests wait for a count."""

    def __init__(self):
        self.messages = []
        self._cond = threading.Condition()

    def __call__(self, msg):
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def mark(self):
        """Index of the next message: pass as `since` to wait for messages after an action."""
        with self._cond:
            return len(self.messages)

    def wait(self, count=1, timeout=10.0, predicate=None, since=None):
        """Wait for `count` messages (satisfying predicate, if given) from index `since`
        (default: messages arriving after this call); return them."""
        with self._cond:
            start = len(self.messages) if since is None else since

            def matching():
                new = self.messages[start:]
                return [m for m in new if predicate(m)] if predicate else new
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                raise AssertionError(f'timed out after {timeout:g} s waiting for {count} '
                                     f'message(s); got {len(matching())} matching of '
                                     f'{len(self.messages) - start}')
            return matching()

    def clear(self):
        with self._cond:
            self.messages.clear()


def node_env():
    """Environment for a node started as a separate process (inherits the test domain)."""
    env = dict(os.environ)
    env['PYTHONUNBUFFERED'] = '1'
    env.setdefault('PYTHONPATH', str(REPO))
    return env


def node_command(*ros_args):
    """Command line that runs controller_node with the test interpreter."""
    return package_node_command('controller_node') + list(ros_args)


def cartpole_params(model, **overrides):
    """Parameters (rclpy Parameter list) of an in-process cart-pole node: the task's
    parameters file with a test model and a faster loop."""
    from rclpy.parameter import Parameter
    values = params_from_config('cartpole', model=str(model), control_rate_hz=100.0,
                                sensor_timeout_s=0.5, busy_wait_us=200)
    values.update(overrides)
    return [Parameter(k, value=v) for k, v in values.items()]


def joint_state(position=(0.1, -0.2), velocity=(0.0, 0.3), names=('slider_to_cart',
                                                                    'cart_to_pole')):
    from sensor_msgs.msg import JointState
    msg = JointState()
    msg.name = list(names)
    msg.position = [float(v) for v in position]
    msg.velocity = [float(v) for v in velocity]
    return msg


def params_from_config(task, **overrides):
    """The task's controller parameters file as a flat dict of values, with overrides."""
    values = read_params_file(get_task(task).params_file, 'liquid_controller')
    values.update(overrides)
    return values


def finite_within(values, low, high):
    values = np.asarray(values, dtype=np.float64)
    return bool(np.isfinite(values).all() and (values >= low).all() and (values <= high).all())


def straight_path(n=40, spacing=0.1, frame='odom'):
    """A nav_msgs/Path along +x."""
    from geometry_msgs.msg import PoseStamped
    from nav_msgs.msg import Path
    path = Path()
    path.header.frame_id = frame
    for i in range(n):
        pose = PoseStamped()
        pose.pose.position.x = i * spacing
        path.poses.append(pose)
    return path


def odometry(x=1.0, y=0.2, yaw=0.0, v=0.3, w=0.1, frame='odom'):
    """A nav_msgs/Odometry with the given planar pose and speeds."""
    from nav_msgs.msg import Odometry
    msg = Odometry()
    msg.header.frame_id = frame
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    msg.twist.twist.linear.x, msg.twist.twist.angular.z = v, w
    return msg


def declared_launch_arguments(launch_file):
    """Names of the entities of a launch file's description (its declared arguments)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(Path(launch_file).stem.replace('.', '_'),
                                                  launch_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    return {getattr(e, 'name', None) for e in description.entities}
