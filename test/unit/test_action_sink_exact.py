"""The action sink, exactly: every refusal of a limits configuration in full, the command
when a swap hands over the last one, what counts as a bad action, rate limits only with a
usable dt, and reading recorded commands back."""
import math

import numpy as np
import pytest
from geometry_msgs.msg import Twist, TwistStamped
from std_msgs.msg import Float64MultiArray

from liquid_control.control import params as cfg
from liquid_control.control.actions import (ActionLimits, ActionSink, command_reader,
                                            message_builder)
from liquid_control.control.params import ConfigError


def refusal(*args, **kwargs):
    with pytest.raises(ConfigError) as error:
        ActionLimits(*args, **kwargs)
    return str(error.value)


def test_every_refusal_in_full():
    assert refusal(('a', 'b'), [0], [1, 2]) == 'action.min has 1 value(s), there are 2 actions'
    assert refusal(('a',), [0], [1, 2]) == 'action.max has 2 value(s), there are 1 actions'
    assert refusal(('a',), [-1], [1], rate_limit=[1, 2]) == \
        'action.rate_limit has 2 value(s), there are 1 actions'
    assert refusal(('a',), [-1], [1], safe=[0, 0]) == \
        'action.safe has 2 value(s), there are 1 actions'
    assert refusal(('a',), [-1], [1], deadband=[0, 0]) == \
        'action.deadband has 2 value(s), there are 1 actions'
    assert refusal(('a',), [math.nan], [1]) == 'action.min must be finite, got [nan]'
    assert refusal(('a',), [-1], [math.inf]) == 'action.max must be finite, got [inf]'
    assert refusal(('a', 'b'), [-1, -1], [1, 1], rate_limit=[1, -2]) == \
        'action.rate_limit must be >= 0 (0 = no limit), got [1.0, -2.0]'
    assert refusal(('a',), [-1], [1], deadband=[-0.5]) == \
        'action.deadband must be >= 0 (0 = none), got [-0.5]'
    assert refusal(('a', 'b'), [-1, 2], [1, 2]) == "action 'b': min 2 is not below max 2"
    assert refusal(('a',), [-1], [1], safe=[1.5]) == \
        "action 'a': safe command 1.5 is outside [-1, 1]; set action.safe within the limits"
    assert refusal(('a',), [0.5], [1]) == ("action 'a': the default safe command 0 is outside "
                                           '[0.5, 1]; set action.safe within the limits')
    assert refusal(('a',), [0.5], [1], safe=[0.5], deadband=[0.1]) == (
        "action 'a': a deadband publishes 0, which is outside [0.5, 1]; set action.deadband "
        'to 0 for it')


def test_limits_at_their_edges_are_accepted():
    limits = ActionLimits(('a', 'b'), [-1, 0], [1, 2], rate_limit=[0, 3], safe=[1, 0],
                          deadband=[0, 0.1])
    assert limits.names == ('a', 'b')
    assert limits.rate.tolist() == [math.inf, 3.0]      # 0 = no rate limit
    assert limits.safe.tolist() == [1.0, 0.0] and limits.deadband.tolist() == [0.0, 0.1]
    assert ActionLimits(('a',), [-1], [1], safe=[-1]).safe.tolist() == [-1.0]


def test_a_swap_continues_from_the_last_command_clipped_into_the_new_limits():
    limits = ActionLimits(('a', 'b'), [-1, -1], [1, 1], rate_limit=[1, 1])
    assert ActionSink(limits, previous=np.array([0.5, -3.0])).last.tolist() == [0.5, -1.0]
    sink = ActionSink(limits, previous=np.array([0.5, -3.0]))
    np.testing.assert_allclose(sink.command([1.0, 1.0], 0.1), [0.6, -0.9])
    # A previous command of another length (a model with other actions) is not continued.
    assert ActionSink(limits, previous=np.array([0.5])).last.tolist() == [0.0, 0.0]
    assert ActionSink(limits).last.tolist() == [0.0, 0.0]


@pytest.mark.parametrize('action', [[1.0], [1.0, 2.0, 3.0], [math.nan, 0.0], [0.0, -math.inf],
                                    'abc', None, [[1.0, 'x']]])
def test_a_bad_action_is_counted_and_gives_the_safe_command(action):
    sink = ActionSink(ActionLimits(('a', 'b'), [-1, -1], [1, 1], safe=[0.25, -0.5]))
    sink.command([0.9, 0.9], 0.1)
    assert sink.command(action, 0.1).tolist() == [0.25, -0.5]
    assert sink.non_finite == 1 and sink.last.tolist() == [0.25, -0.5]


@pytest.mark.parametrize('dt', [0.0, -0.1, math.nan, math.inf])
def test_without_a_usable_dt_only_the_limits_apply(dt):
    sink = ActionSink(ActionLimits(('a',), [-1], [1], rate_limit=[0.5]))
    assert sink.command([0.9], dt).tolist() == [0.9]
    assert sink.command([5.0], 0.1).tolist() == [pytest.approx(0.95)]


def test_the_deadband_applies_below_the_band_only():
    sink = ActionSink(ActionLimits(('a',), [-1], [1], deadband=[0.1]))
    assert sink.command([0.0999], 0.1).tolist() == [0.0]
    assert sink.command([0.1], 0.1).tolist() == [0.1]
    assert sink.command([-0.1], 0.1).tolist() == [-0.1]


def test_an_unknown_command_type_is_refused_by_name():
    for make in (message_builder, command_reader):
        with pytest.raises(ConfigError) as error:
            make('std_msgs/msg/String', ('a',), *(() if make is command_reader else (object,)))
        assert str(error.value) == "unsupported command message type 'std_msgs/msg/String'"


def test_recorded_commands_read_back_as_they_were_built():
    names = ('linear.x', 'angular.z')
    for msg_type, cls in ((cfg.TWIST, Twist), (cfg.TWIST_STAMPED, TwistStamped)):
        msg = message_builder(msg_type, names, cls, stamp=lambda: TwistStamped().header.stamp)(
            np.array([0.4, -1.5]))
        out = command_reader(msg_type, names)(msg)
        assert out.dtype == np.float64 and out.tolist() == [0.4, -1.5]
    read = command_reader(cfg.FLOAT64_ARRAY, ('a', 'b'))
    out = read(Float64MultiArray(data=[1.0, 2.0]))
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError) as error:
        read(Float64MultiArray(data=[1.0]))
    assert str(error.value) == '1 value(s) in data, 2 action(s) configured'


def test_a_stamped_twist_gets_its_stamp_and_a_plain_one_has_none_to_get():
    stamp = TwistStamped().header.stamp
    stamp.sec = 42
    msg = message_builder(cfg.TWIST_STAMPED, ('linear.x',), TwistStamped,
                          stamp=lambda: stamp)(np.array([0.1]))
    assert msg.header.stamp.sec == 42 and msg.twist.linear.x == 0.1
    msg = message_builder(cfg.TWIST, ('angular.z',), Twist, stamp=lambda: stamp)(
        np.array([0.2]))
    assert msg.angular.z == 0.2 and msg.linear.x == 0.0
