"""The controller node's ROS-free parts: parameter parsing, observation extraction from real
ROS message objects, the action sink's limits, and the name checks against a model."""
import math

import numpy as np
import pytest
from geometry_msgs.msg import Twist, TwistStamped
from hypothesis import given, settings
from hypothesis import strategies as st
from nav_msgs.msg import Odometry
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float64MultiArray

from liquid_control.control import params as cfg
from liquid_control.control.actions import ActionLimits, ActionSink, message_builder
from liquid_control.control.observations import (ObservationLayout, ObservationSource, Rejected,
                                                 make_extractor, quaternion_to_euler)
from liquid_control.control.params import ConfigError, parse_config, read_params_file
from liquid_control.runtime.contract import ModelMetadata
from liquid_control.tasks import get_task

from ros_fixtures import CONFIG_DIR, odometry, straight_path

CARTPOLE = get_task('cartpole')
DIFFDRIVE = get_task('diffdrive')

def shipped(task):
    return read_params_file(CONFIG_DIR / f'{task}.yaml', 'liquid_controller')


def cartpole(**values):
    """The cart-pole's shipped parameters with some changed."""
    return {**shipped('cartpole'), **values}


# -- parameters -----------------------------------------------------------------------------------
def test_defaults_name_no_robot_and_say_what_is_missing():
    with pytest.raises(ConfigError, match='model is not set'):
        parse_config({})
    with pytest.raises(ConfigError, match='observations.joint_states.fields is not set'):
        parse_config({'model': 'm'})
    config = parse_config({'model': 'm', 'observations.joint_states.fields': ['a.position'],
                           'action.names': ['a.effort']})
    # ros2_control's names: joint_state_broadcaster in, a JointGroupEffortController out.
    assert config.sources[0].topic == 'joint_states'
    assert config.sources[0].msg_type == cfg.JOINT_STATE
    assert config.sink.topic == 'effort_controller/commands'
    assert config.autostart and config.dt_source == 'measured'


@pytest.mark.parametrize('task,spec', [('cartpole', CARTPOLE), ('diffdrive', DIFFDRIVE)])
def test_shipped_configs_produce_the_task_names(task, spec):
    config = parse_config(shipped(task))
    assert config.obs_names == spec.obs_names
    assert config.sink.names == spec.action_names
    assert config.model == f'{task}_cfc'
    for name in shipped(task):
        assert cfg.spec_for(name) is not None, f'{name} in config/{task}.yaml is not a parameter'


def test_diffdrive_config_reads_odometry_and_path():
    source = parse_config(shipped('diffdrive')).sources[0]
    assert (source.topic, source.msg_type, source.path_topic) == (
        'odom', cfg.ODOMETRY, 'plan')
    assert parse_config(shipped('diffdrive')).sink.msg_type == cfg.TWIST


@pytest.mark.parametrize('name,value,match', [
    ('control_rate_hz', 0.0, 'control_rate_hz must be 1 to 2000'),
    ('control_rate_hz', -5, 'control_rate_hz'),
    ('control_rate_hz', 'fast', 'must be a number'),
    ('control_rate_hz', True, 'must be a number'),
    ('sensor_timeout_s', 0.0, 'sensor_timeout_s'),
    ('dt_source', 'guess', 'one of measured, nominal'),
    ('busy_wait_us', 2.5, 'integer'),
    ('model', '', 'model is not set'),
    ('observations.sources', [], 'at least one source'),
    ('observations.sources', ['a', 'a'], 'repeats'),
    ('observations.sources', ['bad-name'], 'not a valid parameter name'),
    ('action.names', [], 'action.names is not set'),
    ('action.type', 'geometry_msgs/Pose', 'one of'),
    ('action.min', [float('nan')], 'finite'),
])
def test_bad_values_are_refused_naming_the_parameter(name, value, match):
    with pytest.raises(ConfigError, match=match):
        parse_config(cartpole(**{name: value}))


def test_integers_are_accepted_for_doubles_and_types_are_canonical():
    config = parse_config(cartpole(**{
        'control_rate_hz': 100, 'action.min': [-30], 'action.max': [30],
        'observations.joint_states.type': 'sensor_msgs/JointState'}))
    assert config.control_rate_hz == 100.0 and config.period_s == 0.01
    assert config.sink.limits.min == (-30.0,)
    assert config.sources[0].msg_type == cfg.JOINT_STATE


def test_a_source_needs_topic_type_and_fields():
    with pytest.raises(ConfigError, match='observations.imu.topic is not set'):
        parse_config(cartpole(**{'observations.sources': ['imu']}))
    with pytest.raises(ConfigError, match='type is not set'):
        parse_config(cartpole(**{'observations.sources': ['imu'],
                                 'observations.imu.topic': 'imu'}))
    with pytest.raises(ConfigError, match='select has 1 entries'):
        parse_config(cartpole(**{'observations.joint_states.select': ['a.position']}))


def test_fields_provided_twice_are_refused():
    values = cartpole(**{'observations.sources': ['joint_states', 'more'],
                         'observations.more.topic': 'x',
                         'observations.more.type': cfg.JOINT_STATE,
                         'observations.more.fields': ['slider_to_cart.position']})
    with pytest.raises(ConfigError, match='provided twice: slider_to_cart.position'):
        parse_config(values)


def test_path_topic_only_on_odometry():
    with pytest.raises(ConfigError, match='only for nav_msgs/msg/Odometry'):
        parse_config(cartpole(**{'observations.joint_states.path_topic': 'plan'}))


def test_twist_sink_names_must_be_twist_fields():
    with pytest.raises(ConfigError, match='not Twist fields'):
        parse_config(cartpole(**{'action.type': cfg.TWIST, 'action.names': ['forward']}))


def test_every_parameter_is_documented():
    doc = (CONFIG_DIR.parent / 'docs' / 'node.md').read_text()
    names = [s.name for s in cfg.PARAMETERS] + [
        s.name.replace('observations.x.', 'observations.<source>.')
        for s in cfg.source_parameters('x')]
    missing = [n for n in names if f'`{n}`' not in doc]
    assert not missing, f'not in docs/node.md: {missing}'


# -- observations ---------------------------------------------------------------------------------
def joint_state(names=('slider_to_cart', 'cart_to_pole'), position=(0.5, 3.0),
                velocity=(0.1, -0.2), effort=()):
    return JointState(name=list(names), position=list(position), velocity=list(velocity),
                      effort=list(effort))


def test_joint_state_fields_by_name_in_any_order_with_extra_joints():
    ex = make_extractor(cfg.JOINT_STATE, CARTPOLE.obs_names)
    np.testing.assert_array_equal(ex(joint_state()), [0.5, 0.1, 3.0, -0.2])
    reordered = joint_state(names=('wheel', 'cart_to_pole', 'slider_to_cart'),
                            position=(9.0, 3.0, 0.5), velocity=(9.0, -0.2, 0.1))
    np.testing.assert_array_equal(ex(reordered), [0.5, 0.1, 3.0, -0.2])


@pytest.mark.parametrize('msg,match', [
    (joint_state(names=('slider_to_cart', 'other')), 'cart_to_pole missing'),
    (joint_state(velocity=(0.1,)), 'velocity has 1 value'),
    (joint_state(position=(math.nan, 1.0)), 'non-finite value in slider_to_cart.position'),
    (joint_state(velocity=(0.0, math.inf)), 'non-finite value in cart_to_pole.velocity'),
    (joint_state(names=('slider_to_cart', 'slider_to_cart')), 'appears twice'),
    (JointState(), 'missing'),
])
def test_joint_state_problems_are_rejected_with_a_reason(msg, match):
    ex = make_extractor(cfg.JOINT_STATE, CARTPOLE.obs_names)
    with pytest.raises(Rejected, match=match):
        ex(msg)


def test_select_renames_robot_joints_to_model_fields():
    layout_source = cfg.SourceConfig('js', 'joint_states', cfg.JOINT_STATE, CARTPOLE.obs_names,
                                     ('cart.position', 'cart.velocity', 'pole.position',
                                      'pole.velocity'))
    src = ObservationSource(layout_source, now_ns=lambda: 5)
    src.on_message(joint_state(names=('cart', 'pole')))
    values, stamp = src.latest
    np.testing.assert_array_equal(values, [0.5, 0.1, 3.0, -0.2])
    assert stamp == 5 and src.received == 1


def test_imu_fields_and_euler_angles():
    msg = Imu()
    yaw = 0.7
    msg.orientation.z, msg.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    msg.angular_velocity.z = 0.25
    msg.linear_acceleration.x = -1.5
    ex = make_extractor(cfg.IMU, ['yaw', 'angular_velocity.z', 'linear_acceleration.x', 'roll'])
    np.testing.assert_allclose(ex(msg), [yaw, 0.25, -1.5, 0.0], atol=1e-12)
    with pytest.raises(ConfigError, match='not a Imu selector'):
        make_extractor(cfg.IMU, ['orientation.q'])


@given(st.floats(-math.pi + 1e-6, math.pi - 1e-6), st.floats(-1.4, 1.4),
       st.floats(-math.pi + 1e-6, math.pi - 1e-6))
@settings(max_examples=100, deadline=None)
def test_quaternion_to_euler_round_trip(roll, pitch, yaw):
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    q = (sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy,
         cr * cp * sy - sr * sp * cy, cr * cp * cy + sr * sp * sy)
    np.testing.assert_allclose(quaternion_to_euler(*q), (roll, pitch, yaw), atol=1e-7)


def test_odometry_fields():
    msg = Odometry()
    msg.pose.pose.position.x = 2.0
    msg.twist.twist.linear.x = 0.4
    msg.pose.pose.orientation.w = 1.0
    ex = make_extractor(cfg.ODOMETRY, ['pose.position.x', 'twist.linear.x', 'yaw'])
    np.testing.assert_allclose(ex(msg), [2.0, 0.4, 0.0])
    with pytest.raises(ConfigError, match='need a path'):
        make_extractor(cfg.ODOMETRY, ['cross_track_error'])


@pytest.mark.parametrize('q,match', [((0.0, 0.0, 1.0, math.inf), 'non-finite orientation'),
                                     ((math.nan, 0.0, 0.0, 1.0), 'non-finite orientation'),
                                     ((0.0, 0.0, 0.0, 0.0), 'zero orientation')])
def test_orientation_must_be_a_finite_nonzero_quaternion(q, match):
    msg = odometry()
    o = msg.pose.pose.orientation
    o.x, o.y, o.z, o.w = q
    with pytest.raises(Rejected, match=match):
        make_extractor(cfg.ODOMETRY, ['yaw'])(msg)
    src = path_source()
    src.on_path(straight_path())
    src.on_message(msg)
    assert src.rejected == 1 and src.latest is None


def test_unnormalised_quaternion_gives_the_same_yaw():
    msg = odometry(yaw=0.5)
    o = msg.pose.pose.orientation
    o.z, o.w = 3 * o.z, 3 * o.w
    assert make_extractor(cfg.ODOMETRY, ['yaw'])(msg)[0] == pytest.approx(0.5)


def test_float64_array_by_index():
    ex = make_extractor(cfg.FLOAT64_ARRAY, ['data.2', 'data.0'])
    np.testing.assert_array_equal(ex(Float64MultiArray(data=[1.0, 2.0, 3.0])), [3.0, 1.0])
    with pytest.raises(Rejected, match='data has 2 value'):
        ex(Float64MultiArray(data=[1.0, 2.0]))
    with pytest.raises(ConfigError, match='data.<index>'):
        make_extractor(cfg.FLOAT64_ARRAY, ['speed'])


def path_source():
    config = parse_config(shipped('diffdrive')).sources[0]
    return ObservationSource(config, now_ns=lambda: 1)


def test_path_features_from_odometry_and_path():
    src = path_source()
    src.on_message(odometry())
    assert src.latest is None and 'no path yet on plan' in src.waiting_for
    assert src.rejected == 0, 'odometry before a path is waiting, not bad data'
    src.on_path(straight_path())
    src.on_message(odometry())
    values = src.latest[0]
    assert values.shape == (8,)
    named = dict(zip(DIFFDRIVE.obs_names, values))
    assert named['cross_track_error'] == pytest.approx(0.2)        # left of the path
    assert named['heading_error'] == pytest.approx(0.0)
    assert named['distance_to_goal'] == pytest.approx(min(3.9 - 1.0, 3.0))
    assert (named['linear_velocity'], named['angular_velocity']) == (0.3, 0.1)


def test_a_republished_path_keeps_the_progress_along_it_and_a_new_one_restarts():
    src = path_source()
    src.on_path(straight_path(n=60))                       # 5.9 m along +x
    for x in np.arange(0.0, 4.01, 0.1):                   # drive to x = 4 m
        src.on_message(odometry(x=x, y=0.1))
    before = dict(zip(DIFFDRIVE.obs_names, src.latest[0]))
    assert before['distance_to_goal'] == pytest.approx(1.9)
    src.on_path(straight_path(n=60))                       # the same path, republished
    src.on_message(odometry(x=4.0, y=0.1))
    again = dict(zip(DIFFDRIVE.obs_names, src.latest[0]))
    assert again == pytest.approx(before)
    src.on_path(straight_path(n=80))                       # a new path: tracking restarts
    assert src.extract.tracker.progress == 0.0


def test_unusable_path_and_frame_mismatch_are_rejected():
    src = path_source()
    src.on_path(straight_path(n=1))
    assert src.rejected == 1 and 'unusable path' in src.last_rejection
    src.on_path(straight_path(frame='map'))
    src.on_message(odometry(frame='odom'))
    assert src.rejected == 2 and "frame 'odom'" in src.last_rejection
    assert src.latest is None


def test_layout_gathers_fresh_values_and_reports_stale_sources():
    src = ObservationSource(parse_config(cartpole()).sources[0], now_ns=lambda: 1_000)
    layout = ObservationLayout([src])
    out = np.zeros(4)
    assert layout.gather(1_000, 100, out) == [src]          # nothing received yet
    src.on_message(joint_state())
    assert layout.gather(1_050, 100, out) == []
    np.testing.assert_array_equal(out, [0.5, 0.1, 3.0, -0.2])
    assert layout.gather(1_101, 100, out) == [src]          # too old
    assert layout.gather(800, 100, out) == [src]            # clock went back past the timeout
    src.on_message(joint_state(position=(math.nan, 0.0)))
    assert src.rejected == 1 and src.latest[0][0] == 0.5    # the bad message changed nothing


def test_a_malformed_message_is_counted_not_raised():
    src = ObservationSource(parse_config(cartpole()).sources[0], now_ns=lambda: 0)
    src.on_message(object())
    assert src.rejected == 1 and 'unreadable message' in src.last_rejection


# -- names against the model ----------------------------------------------------------------------
def metadata(obs=CARTPOLE.obs_names, actions=CARTPOLE.action_names, low=(-30.0,), high=(30.0,)):
    return ModelMetadata(arch='gru', task='cartpole', obs_names=tuple(obs),
                         action_names=tuple(actions), action_low=low, action_high=high,
                         nominal_dt=0.02, n_state=8, seed=0, source_commit='x',
                         weights_sha256='0' * 64)


def test_observation_mismatch_prints_both_lists_and_the_difference():
    layout = ObservationLayout([ObservationSource(parse_config(cartpole()).sources[0], lambda: 0)])
    other = ('cart.x', 'slider_to_cart.velocity', 'cart_to_pole.position',
             'cart_to_pole.velocity')
    with pytest.raises(ConfigError) as info:
        layout.check_model(other, 'm.onnx')
    text = str(info.value)
    assert str(list(CARTPOLE.obs_names)) in text and str(list(other)) in text
    assert "lacks: ['cart.x']" in text and "does not take: ['slider_to_cart.position']" in text
    swapped = (CARTPOLE.obs_names[1], CARTPOLE.obs_names[0]) + CARTPOLE.obs_names[2:]
    with pytest.raises(ConfigError, match='different order'):
        layout.check_model(swapped, 'm.onnx')


def test_action_mismatch_is_refused():
    with pytest.raises(ConfigError, match='action names of the mapping differ'):
        ActionLimits.resolve(('cart.force',), cfg.LimitsConfig(), metadata(), 'm.onnx')


# -- the action sink ------------------------------------------------------------------------------
def test_limits_default_to_the_model_and_safe_must_lie_within():
    limits = ActionLimits.resolve(CARTPOLE.action_names, cfg.LimitsConfig(), metadata(), 'm')
    assert (limits.low[0], limits.high[0], limits.safe[0]) == (-30.0, 30.0, 0.0)
    with pytest.raises(ConfigError, match='safe command 50 is outside'):
        ActionLimits(('a',), [-1], [1], safe=[50])
    with pytest.raises(ConfigError, match='default safe command 0 is outside'):
        ActionLimits(('a',), [0.5], [1])
    with pytest.raises(ConfigError, match='min 1 is not below max 1'):
        ActionLimits(('a',), [1], [1])
    with pytest.raises(ConfigError, match='action.max has 2 value'):
        ActionLimits(('a',), [0], [1, 2])
    with pytest.raises(ConfigError, match='rate_limit must be >= 0'):
        ActionLimits(('a',), [-1], [1], rate_limit=[-2])


def test_sink_clips_and_rate_limits():
    sink = ActionSink(ActionLimits(('v', 'w'), [0, -2], [1, 2], rate_limit=[0.5, 0]))
    np.testing.assert_allclose(sink.command([5.0, -9.0], 0.1), [0.05, -2.0])
    np.testing.assert_allclose(sink.command([5.0, 1.0], 0.1), [0.10, 1.0])
    np.testing.assert_allclose(sink.safe_command(), [0.0, 0.0])   # safe is immediate


def test_deadband_publishes_zero_near_zero_only():
    # A model that settles at 4 mm/s instead of 0 would creep past its goal.
    sink = ActionSink(ActionLimits(('v', 'w'), [0, -2], [1, 2], deadband=[0.01, 0.02]))
    np.testing.assert_array_equal(sink.command([0.0044, -0.0001], 0.02), [0.0, 0.0])
    np.testing.assert_allclose(sink.command([0.0101, -0.03], 0.02), [0.0101, -0.03])
    np.testing.assert_array_equal(sink.command([-5.0, 0.019], 0.02), [0.0, 0.0])  # clip, band
    limits = ActionLimits.resolve(('linear.x', 'angular.z'),
                                  cfg.LimitsConfig(deadband=(0.01, 0.0)),
                                  metadata(actions=('linear.x', 'angular.z'), low=(0, -2),
                                           high=(1, 2)), 'm')
    assert limits.deadband.tolist() == [0.01, 0.0]
    with pytest.raises(ConfigError, match='deadband must be >= 0'):
        ActionLimits(('a',), [-1], [1], deadband=[-0.1])
    with pytest.raises(ConfigError, match="action 'a': a deadband publishes 0, which is "
                                          r'outside \[0.5, 1\]'):
        ActionLimits(('a',), [0.5], [1], safe=[0.5], deadband=[0.1])


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=0,
                max_size=4),
       st.floats(allow_nan=True, allow_infinity=True))
@settings(max_examples=300, deadline=None)
def test_sink_output_is_always_finite_and_within_limits(action, dt):
    sink = ActionSink(ActionLimits(('a', 'b'), [-1, 0], [1, 3], rate_limit=[2, 0], safe=[0, 1],
                                   deadband=[0.1, 0.0]))
    for _ in range(3):
        command = sink.command(action, dt)
        assert command.shape == (2,)
        assert np.isfinite(command).all()
        assert (-1 <= command[0] <= 1) and (0 <= command[1] <= 3)


def test_messages_built_from_commands():
    build = message_builder(cfg.FLOAT64_ARRAY, ('a', 'b'), Float64MultiArray)
    assert list(build(np.array([1.5, -2.0])).data) == [1.5, -2.0]
    twist = message_builder(cfg.TWIST, ('linear.x', 'angular.z'), Twist)(np.array([0.4, -1.0]))
    assert (twist.linear.x, twist.angular.z, twist.linear.y) == (0.4, -1.0, 0.0)
    stamped = message_builder(cfg.TWIST_STAMPED, ('angular.z',), TwistStamped,
                              stamp=lambda: TwistStamped().header.stamp)(np.array([0.3]))
    assert stamped.twist.angular.z == 0.3
