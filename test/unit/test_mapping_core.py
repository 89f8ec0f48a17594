"""ControlCore with real onnxruntime models and no ROS: what one tick publishes when data is
good, stale, bad or when a swap is pending."""
import math

import numpy as np
import pytest
from sensor_msgs.msg import JointState

from liquid_control.control.core import (BoundController, ControlCore, Outcome,
                                         load_bound_controller)
from liquid_control.control.observations import ObservationLayout, ObservationSource
from liquid_control.control.params import ConfigError, LimitsConfig, parse_config
from liquid_control.runtime import ModelContractError, load_controller

from ros_fixtures import build_task_model, params_from_config, task_models  # noqa: F401

MS = 1_000_000


class Clock:
    def __init__(self):
        self.t = 0

    def __call__(self):
        return self.t


def make_core(model, trial_step=True, **values):
    """trial_step=False binds the model without load_bound_controller's trial step (a model
    that fails only on some inputs passes it)."""
    config = parse_config(params_from_config('cartpole', model=str(model), **values))
    clock = Clock()
    layout = ObservationLayout([ObservationSource(s, clock) for s in config.sources])
    bound = (load_bound_controller(str(model), layout, config.sink) if trial_step
             else BoundController(load_controller(str(model)), layout, config.sink))
    core = ControlCore(layout, bound, config.sensor_timeout_s, config.period_s, config.dt_source)
    core.restart()
    return core, layout.sources[0], clock, config


def js(pos=(0.1, 0.2), vel=(0.0, -0.3)):
    return JointState(name=['slider_to_cart', 'cart_to_pole'], position=list(pos),
                      velocity=list(vel))


def test_tick_steps_the_model_with_the_gathered_observation(task_models):
    core, source, clock, _ = make_core(task_models['cartpole_gru'])
    reference = load_controller(task_models['cartpole_gru'])
    source.on_message(js())
    for k in range(5):
        clock.t = (k + 1) * 20 * MS
        command, outcome = core.tick(clock.t, 0.02)
        expected = reference.step([0.1, 0.0, 0.2, -0.3], 0.02)
        assert outcome == Outcome.CONTROL
        np.testing.assert_allclose(command, expected, rtol=1e-6)
        source.on_message(js())


def test_watchdog_publishes_safe_then_resumes_with_reset_state(task_models):
    core, source, clock, _ = make_core(task_models['cartpole_cfc'], sensor_timeout_s=0.05,
                                       **{'action.safe': [1.5]})
    command, outcome = core.tick(0, 0.02)
    assert outcome == Outcome.WATCHDOG and command.tolist() == [1.5]
    first = []
    for k in range(3):
        source.on_message(js())
        command, outcome = core.tick(clock.t, 0.02)
        first.append(command.copy())
        clock.t += 20 * MS
    assert outcome == Outcome.CONTROL and core.watchdog.trips == 0
    clock.t += 100 * MS                                   # sensor silent past the timeout
    command, outcome = core.tick(clock.t, 0.02)
    assert outcome == Outcome.WATCHDOG and command.tolist() == [1.5]
    assert core.watchdog.tripped and core.watchdog.trips == 1
    assert 'joint_states timed out' in core.watchdog.reason
    again = []
    for k in range(3):                                    # data returns: state starts over
        source.on_message(js())
        command, outcome = core.tick(clock.t, 0.02)
        again.append(command.copy())
        clock.t += 20 * MS
    np.testing.assert_allclose(again, first, rtol=1e-6)


def nan_model(path):
    """A cart-pole model whose action is NaN whatever comes in (its output bias is NaN)."""
    import onnx
    from onnx import numpy_helper
    build_task_model(path)
    model = onnx.load(str(path))
    for init in model.graph.initializer:
        if init.name == 'b_out':
            init.CopyFrom(numpy_helper.from_array(
                np.full(numpy_helper.to_array(init).shape, np.nan, np.float32), 'b_out'))
    onnx.save(model, str(path))
    return path


def test_a_model_that_cannot_step_is_refused_at_load(tmp_path):
    with pytest.raises(ModelContractError, match='trial step .* non-finite output'):
        make_core(nan_model(tmp_path / 'nan.onnx'))


def test_rejected_step_gives_the_safe_command(tmp_path):
    core, source, clock, _ = make_core(nan_model(tmp_path / 'nan.onnx'), trial_step=False)
    source.on_message(js())
    command, outcome = core.tick(clock.t, 0.02)
    assert outcome == Outcome.REJECTED and command.tolist() == [0.0]
    assert core.rejected_steps == 1 and 'non-finite output' in core.last_rejection


def test_values_beyond_float32_are_rejected_messages(task_models):
    core, source, clock, _ = make_core(task_models['cartpole_gru'])
    source.on_message(js(pos=(1e39, 0.0)))
    assert source.rejected == 1 and 'out-of-range value in slider_to_cart.position' in \
        source.last_rejection
    assert core.tick(clock.t, 0.02)[1] == Outcome.WATCHDOG


def test_time_going_backwards_resets_and_uses_the_nominal_period(task_models):
    core, source, clock, _ = make_core(task_models['cartpole_cfc'])
    source.on_message(js())
    a = core.tick(clock.t, 0.02)[0].copy()
    core.tick(clock.t, 0.02)
    b, outcome = core.tick(clock.t, -5.0)
    assert outcome == Outcome.CONTROL and core.time_jumps == 1
    np.testing.assert_allclose(b, a, rtol=1e-6)     # state was reset, dt = period


def test_nominal_dt_source(task_models):
    core, source, clock, config = make_core(task_models['cartpole_cfc'], dt_source='nominal',
                                            control_rate_hz=50.0)
    reference = load_controller(task_models['cartpole_cfc'])
    source.on_message(js())
    command, _ = core.tick(clock.t, 0.5)            # measured dt ignored
    np.testing.assert_allclose(command, reference.step([0.1, 0.0, 0.2, -0.3], 0.02), rtol=1e-6)


def test_swap_installs_between_ticks_and_resets_state(task_models):
    core, source, clock, config = make_core(task_models['cartpole_gru'])
    source.on_message(js())
    for _ in range(3):
        core.tick(clock.t, 0.02)
    new = load_bound_controller(str(task_models['cartpole_cfc']), core.layout, config.sink)
    core.request(new)
    assert core.controller.name == 'cartpole_gru'        # not before the next tick
    command, _ = core.tick(clock.t, 0.02)
    assert core.controller.name == 'cartpole_cfc' and core.swaps == 1
    fresh = load_controller(task_models['cartpole_cfc'])
    np.testing.assert_allclose(command, fresh.step([0.1, 0.0, 0.2, -0.3], 0.02), rtol=1e-6)


def test_binding_refuses_mismatched_or_broken_models(task_models, tmp_path):
    core, source, clock, config = make_core(task_models['cartpole_gru'])
    with pytest.raises(ConfigError, match='observation names of the mapping differ'):
        load_bound_controller(str(task_models['cartpole_mismatch']), core.layout, config.sink)
    other_action = build_task_model(tmp_path / 'force.onnx', action_names=('cart.force',))
    with pytest.raises(ConfigError, match='action names of the mapping differ'):
        load_bound_controller(str(other_action), core.layout, config.sink)
    bad = tmp_path / 'broken.onnx'
    bad.write_bytes(b'not onnx')
    with pytest.raises(ModelContractError, match='not a loadable ONNX model'):
        load_bound_controller(str(bad), core.layout, config.sink)
    with pytest.raises(ModelContractError, match='no model named'):
        load_bound_controller('no_such_model', core.layout, config.sink)


def test_live_limits_keep_the_state_and_continue_from_the_last_command(task_models):
    core, source, clock, config = make_core(task_models['cartpole_gru'])
    source.on_message(js())
    before = core.tick(clock.t, 0.02)[0].copy()
    assert abs(before[0]) > 1e-3
    limits = LimitsConfig(min=(-1e-4,), max=(1e-4,), rate_limit=None, safe=None)
    sink = config.sink.__class__(config.sink.topic, config.sink.msg_type, config.sink.names,
                                 limits, config.sink.qos)
    core.request(core.controller.with_limits(core.layout, sink), reset_state=False)
    command, _ = core.tick(clock.t, 0.02)
    assert abs(command[0]) == pytest.approx(1e-4) and core.swaps == 0
    assert math.isfinite(command[0])
