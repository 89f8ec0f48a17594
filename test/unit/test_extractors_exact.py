"""Observation extractors, exactly: which selectors each message type accepts and the full
error text for the others, the field a rejected message is rejected for, extractors that
read no orientation, and a source forgetting its values at a new activation."""
import math

import numpy as np
import pytest
from sensor_msgs.msg import Imu
from std_msgs.msg import Float64MultiArray

from liquid_control.control import params as cfg
from liquid_control.control.observations import (EULER, IMU_SELECTORS, ObservationLayout,
                                                 ObservationSource, Rejected, make_extractor)
from liquid_control.control.params import ConfigError


def rejection(extractor, msg):
    with pytest.raises(Rejected) as error:
        extractor(msg)
    return str(error.value)


@pytest.mark.parametrize('selector', ['speed', 'data.x', 'data.', 'foo.0', 'data.0.1',
                                      'data.-1'])
def test_float64_array_selectors_must_be_data_index(selector):
    with pytest.raises(ConfigError) as error:
        make_extractor(cfg.FLOAT64_ARRAY, [selector])
    assert str(error.value) == (
        f'{selector!r} is not a Float64MultiArray selector: use data.<index> (e.g. data.0), '
        'naming the field with the fields parameter')


def test_a_rejected_array_names_the_field():
    ex = make_extractor(cfg.FLOAT64_ARRAY, ['data.0', 'data.1'])
    assert rejection(ex, Float64MultiArray(data=[1.0, math.nan])) == 'non-finite value in data.1'
    assert rejection(ex, Float64MultiArray(data=[1e39, 0.0])) == 'out-of-range value in data.0'


def test_an_imu_without_orientation_fields_reads_no_orientation():
    msg = Imu()
    msg.orientation.x = msg.orientation.y = msg.orientation.z = msg.orientation.w = 0.0
    msg.angular_velocity.z = 0.25
    ex = make_extractor(cfg.IMU, ['angular_velocity.z'])
    np.testing.assert_array_equal(ex(msg), [0.25])   # a zero quaternion is not read at all
    msg.linear_acceleration.x = math.inf
    ex = make_extractor(cfg.IMU, ['angular_velocity.z', 'linear_acceleration.x'])
    assert rejection(ex, msg) == 'non-finite value in linear_acceleration.x'


def test_an_unknown_imu_selector_lists_every_one_there_is():
    with pytest.raises(ConfigError) as error:
        make_extractor(cfg.IMU, ['orientation.q'])
    assert str(error.value) == ("'orientation.q' is not a Imu selector: use one of "
                                + ', '.join(list(IMU_SELECTORS) + list(EULER)))


def test_a_source_cleared_at_activation_is_stale_until_a_new_message():
    config = cfg.SourceConfig('arr', 'values', cfg.FLOAT64_ARRAY, ('a',), ('data.0',))
    source = ObservationSource(config, now_ns=lambda: 100)
    layout = ObservationLayout([source])
    out = np.zeros(1)
    source.on_message(Float64MultiArray(data=[2.0]))
    assert layout.gather(100, 10, out) == [] and out[0] == 2.0
    source.clear()
    assert source.latest is None and layout.gather(100, 10, out) == [source]
    source.on_message(Float64MultiArray(data=[3.0]))
    assert layout.gather(100, 10, out) == [] and out[0] == 3.0
