"""controller_node in this process, over real rclpy and DDS: commands for injected sensor data,
watchdog, bad data, diff-drive path following input, sim time, and configure failures."""
import math

import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState

from liquid_control.runtime import load_controller

from ros_fixtures import (  # noqa: F401
    Collector,
    Spinner,
    cartpole_params,
    commands,
    finite_within,
    joint_state,
    odometry,
    params_from_config,
    ros,
    ros_context,
    straight_path,
    task_models,
    wait_for,
)

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def feed(helper, pub, collector, msg, count=5, predicate=None, timeout=10.0):
    """Publish `msg` every 10 ms (a sensor stream, from a timer of `helper`) until `count`
    commands satisfying predicate have arrived; return them."""
    stream = helper.create_timer(0.01, lambda: pub.publish(msg))
    try:
        return collector.wait(count, timeout=timeout, predicate=predicate)
    finally:
        helper.destroy_timer(stream)


def test_publishes_model_commands_for_joint_states(ros, task_models):
    helper, start = ros
    out = commands(helper)
    pub = helper.create_publisher(JointState, '/joint_states', 10)   # reliable publisher
    # dt_source nominal: the first controlled tick is one step of exactly 1/control_rate_hz
    # from a zero state (the watchdog resets it when data arrives), so the command is known
    # to float32 precision: a permuted observation or another dt would not give it.
    node = start(cartpole_params(task_models['cartpole_gru'], dt_source='nominal'))
    assert node.lifecycle_state == 'active'
    msgs = out.wait(3)                           # no data yet: the safe command every tick
    assert all(list(m.data) == [0.0] for m in msgs)
    got = feed(helper, pub, out, joint_state(), count=5, predicate=lambda m: m.data[0] != 0.0)
    expected = load_controller(task_models['cartpole_gru']).step([0.1, 0.0, -0.2, 0.3], 0.01)
    assert got[0].data[0] == pytest.approx(float(expected[0]), rel=1e-6)
    for wrong_obs, wrong_dt in (([0.1, 0.3, -0.2, 0.0], 0.01), ([0.1, 0.0, -0.2, 0.3], 0.02)):
        other = load_controller(task_models['cartpole_gru']).step(wrong_obs, wrong_dt)
        assert abs(float(other[0]) - float(expected[0])) > 1e-4   # the check can tell
    assert all(finite_within(m.data, -30, 30) for m in got)
    assert node.diagnostics_snapshot()['received'] >= 1


def test_best_effort_and_reliable_publishers_both_feed_it(ros, task_models):
    from rclpy.qos import qos_profile_sensor_data
    helper, start = ros
    out = commands(helper)
    start(cartpole_params(task_models['cartpole_cfc'], sensor_timeout_s=0.05))
    for qos in (qos_profile_sensor_data, RELIABLE):
        pub = helper.create_publisher(JointState, '/joint_states', qos)
        feed(helper, pub, out, joint_state(), count=3, predicate=lambda m: m.data[0] != 0.0)
        helper.destroy_publisher(pub)


def test_bad_messages_are_counted_and_never_reach_the_command(ros, task_models):
    helper, start = ros
    out = commands(helper)
    pub = helper.create_publisher(JointState, '/joint_states', 10)
    node = start(cartpole_params(task_models['cartpole_gru'], sensor_timeout_s=0.05))
    bad = [joint_state(position=(math.nan, 0.0)), joint_state(velocity=(math.inf, 0.0)),
           joint_state(names=('slider_to_cart',)), joint_state(position=(1e300, 0.0)),
           JointState()]
    for msg in bad:
        pub.publish(msg)
    wait_for(lambda: node.diagnostics_snapshot()['rejected_messages'] >= len(bad),
             what='rejections counted')
    out.wait(3)
    assert all(list(m.data) == [0.0] for m in out.messages), \
        'only bad data: the safe command'
    snapshot = node.diagnostics_snapshot()
    assert snapshot['received'] == 0 and snapshot['watchdog_tripped']
    assert all(finite_within(m.data, -30, 30) for m in out.messages)


def test_watchdog_safe_command_error_diagnostics_and_resume(ros, task_models):
    helper, start = ros
    out = commands(helper)
    diags = Collector()
    helper.create_subscription(DiagnosticArray, '/diagnostics', diags, 10)
    pub = helper.create_publisher(JointState, '/joint_states', 10)
    node = start(cartpole_params(task_models['cartpole_gru'], sensor_timeout_s=0.05,
                                 **{'action.safe': [2.5]}))
    feed(helper, pub, out, joint_state(), count=3, predicate=lambda m: m.data[0] != 2.5)
    # Data stops: within the timeout the safe command goes out, every tick.
    out.wait(1, predicate=lambda m: list(m.data) == [2.5])
    following = out.wait(5)                      # the next five ticks, whatever they publish
    assert all(list(m.data) == [2.5] for m in following), [list(m.data) for m in following]
    mark = diags.mark()
    node.publish_diagnostics()
    status = diags.wait(1, since=mark,
                        predicate=lambda m: m.status and 'control loop' in m.status[0].name)
    status = status[0].status[0]
    values = {kv.key: kv.value for kv in status.values}
    assert status.level == bytes([2]) and 'watchdog' in status.message
    assert values['watchdog'] == 'tripped'
    assert values['model_sha256'] == load_controller(task_models['cartpole_gru']).file_sha256
    for key in ('period_error_p99_us', 'missed_ticks_total', 'tick_time_p50_us',
                'tick_take_p50_us', 'tick_gather_sink_p50_us', 'tick_model_step_p50_us',
                'tick_publish_p50_us', 'rejected_messages', 'model'):
        assert key in values, key
    for part in ('take', 'gather_sink', 'model_step', 'publish'):
        assert 0.0 <= float(values[f'tick_{part}_p50_us']) <= float(values['tick_time_max_us'])
    assert float(values['tick_publish_p50_us']) > 0.0
    assert node.diagnostics_snapshot()['watchdog_trips'] >= 1
    # Data returns: model commands again (the state was reset, see test_mapping_core).
    feed(helper, pub, out, joint_state(), count=3, predicate=lambda m: m.data[0] != 2.5)


def test_diffdrive_odometry_and_path_to_twist(ros, task_models):
    helper, start = ros
    from nav_msgs.msg import Odometry, Path
    values = params_from_config('diffdrive', model=str(task_models['diffdrive_gru']),
                                control_rate_hz=100.0, sensor_timeout_s=0.5)
    out = commands(helper, '/cmd_vel', Twist)
    odom = helper.create_publisher(Odometry, '/odom', 10)
    plan = helper.create_publisher(Path, '/plan', RELIABLE)
    node = start([Parameter(k, value=v) for k, v in values.items()])
    odom.publish(odometry())
    wait_for(lambda: 'no path yet' in node.diagnostics_snapshot()['watchdog_reason'],
             what='odometry seen, waiting for a path')
    assert all((m.linear.x, m.angular.z) == (0.0, 0.0) for m in out.wait(2))
    # Republished, as a planner (and the simulator) does: the first may precede the match.
    helper.create_timer(0.1, lambda: plan.publish(straight_path()))
    got = feed(helper, odom, out, odometry(), count=3,
               predicate=lambda m: (m.linear.x, m.angular.z) != (0.0, 0.0))
    for m in got:
        assert 0.0 <= m.linear.x <= 1.0 and -2.0 <= m.angular.z <= 2.0
        assert (m.linear.y, m.linear.z, m.angular.x, m.angular.y) == (0, 0, 0, 0)


def test_sim_time_ticks_follow_clock(ros, task_models):
    helper, start = ros
    out = commands(helper)
    clock = helper.create_publisher(Clock, '/clock', 10)
    pub = helper.create_publisher(JointState, '/joint_states', 10)
    params = cartpole_params(task_models['cartpole_cfc'], control_rate_hz=50.0,
                             sensor_timeout_s=0.1, use_sim_time=True)
    node = start(params)
    wait_for(lambda: clock.get_subscription_count() >= 1, what="the node's /clock subscription")
    reference = load_controller(task_models['cartpole_cfc'])
    results = []
    t = 1_000_000_000
    for k in range(6):
        pub.publish(joint_state())
        t += 20_000_000                                   # one control period of sim time
        msg = Clock()
        msg.clock.sec, msg.clock.nanosec = divmod(t, 1_000_000_000)
        # The node ticks when sim time reaches a deadline; wait for that command.
        mark = out.mark()
        clock.publish(msg)
        results += out.wait(1, timeout=10, since=mark)
    assert node.diagnostics_snapshot()['clock'] == 'sim'
    data = [m.data[0] for m in results if m.data[0] != 0.0]
    assert data, 'commands from the model once sim time runs'
    # dt is sim time: the first controlled ticks match a 20 ms-step reference.
    expected = reference.step([0.1, 0.0, -0.2, 0.3], 0.02)[0]
    assert data[0] == pytest.approx(float(expected), abs=1e-5)


def test_mapping_mismatch_fails_configure_with_both_lists(ros, task_models):
    helper, start = ros
    node = start(cartpole_params(task_models['cartpole_mismatch']))
    assert node.lifecycle_state == 'unconfigured'
    error = node.diagnostics_snapshot()['configure_error']
    assert "mapping: ['slider_to_cart.position'" in error
    assert "model:   ['cart.x'" in error


def test_autostart_false_waits_unconfigured(ros, task_models):
    helper, start = ros
    node = start(cartpole_params(task_models['cartpole_gru'], autostart=False))
    assert node.lifecycle_state == 'unconfigured'


@pytest.fixture(scope='module')
def adopted_policies(tmp_path_factory):
    """An MLP and an LSTM exported by torch under their own names, adopted for the cart-pole
    mapping (liquid-control adopt), with the torch modules as the reference."""
    torch = pytest.importorskip('torch')
    from liquid_control.adoption import AdoptSpec, adopt
    from liquid_control.tasks import get_task
    folder = tmp_path_factory.mktemp('adopted')
    task = get_task('cartpole')
    torch.manual_seed(3)
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    lstm = torch.nn.LSTM(4, 8)
    head = torch.nn.Linear(8, 1)

    def lstm_policy(x, h, c):
        y, (h, c) = lstm(x.unsqueeze(0), (h, c))
        return head(y[0]), h, c

    class LSTMPolicy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = lstm, head

        def forward(self, x, h, c):
            return lstm_policy(x, h, c)

    torch.onnx.export(mlp, (torch.zeros(1, 4),), folder / 'mlp.onnx', dynamo=False,
                      input_names=['observations'], output_names=['actions'])
    torch.onnx.export(LSTMPolicy(), (torch.zeros(1, 4), torch.zeros(1, 1, 8),
                                     torch.zeros(1, 1, 8)), folder / 'lstm.onnx', dynamo=False,
                      input_names=['x', 'h0', 'c0'], output_names=['u', 'h1', 'c1'])
    common = dict(obs_names=task.obs_names, action_names=task.action_names,
                  action_low=task.action_low, action_high=task.action_high,
                  nominal_dt=task.nominal_dt, action_scale=[10.0])
    paths = {'mlp': adopt(folder / 'mlp.onnx', AdoptSpec(**common),
                          folder / 'cartpole_mlp.onnx').path,
             'lstm': adopt(folder / 'lstm.onnx',
                           AdoptSpec(arch='lstm', state=[('h0', 'h1'), ('c0', 'c1')], **common),
                           folder / 'cartpole_lstm.onnx').path}

    def reference(name, obs, steps):
        """The torch module's first `steps` actions for the same observation, from zero
        state, scaled and clipped as adopted."""
        x = torch.tensor([obs], dtype=torch.float32)
        h = c = torch.zeros(1, 1, 8)
        out = []
        with torch.no_grad():
            for _ in range(steps):
                if name == 'mlp':
                    u = mlp(x)
                else:
                    u, h, c = lstm_policy(x, h, c)
                out.append(float(min(max(u.item() * 10.0, -30.0), 30.0)))
        return out

    return paths, reference


@pytest.mark.parametrize('name', ['mlp', 'lstm'])
def test_an_adopted_outside_policy_runs_in_the_node(ros, adopted_policies, name):
    paths, reference = adopted_policies
    helper, start = ros
    out = commands(helper)
    pub = helper.create_publisher(JointState, '/joint_states', 10)
    node = start(cartpole_params(paths[name], require_sha256=True))   # its card is written
    assert node.lifecycle_state == 'active'
    got = feed(helper, pub, out, joint_state(), count=3,
               predicate=lambda m: m.data[0] != 0.0)
    # Each tick steps the policy once on the same observation, its state carried along.
    expected = reference(name, [0.1, 0.0, -0.2, 0.3], 3)
    assert [m.data[0] for m in got] == pytest.approx(expected, abs=1e-5)
