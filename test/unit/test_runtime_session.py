"""ControllerSession with real onnxruntime: stepping, state, and refusal of bad input."""
import math

import numpy as np
import pytest

from liquid_control.runtime import ControllerSession, StepRejected, load_controller

from model_factory import build_model


@pytest.fixture(params=['gru', 'cfc'])
def model(request, tmp_path):
    path = tmp_path / f'{request.param}.onnx'
    ref = build_model(path, cell=request.param, n_obs=5, n_hidden=16, n_act=2, seed=3)
    return path, ref


def test_state_carried_across_steps_matches_reference(model):
    path, ref = model
    session = load_controller(path)
    rng = np.random.default_rng(0)
    h = np.zeros(ref.n_hidden)
    for _ in range(300):
        obs, dt = rng.normal(0, 2, 5), rng.uniform(0.002, 0.1)
        action = session.step(obs, dt)
        ref_action, h = ref.step(obs, h, dt)
        np.testing.assert_allclose(action, ref_action, atol=2e-5)
        np.testing.assert_allclose(session.state, h, atol=2e-5)
    assert session.steps == 300
    assert np.abs(h).max() > 1e-2, 'the reference state should have moved away from zero'


def test_reset_zeroes_state_and_repeats_trajectory(model):
    path, _ = model
    session = load_controller(path)
    obs = np.linspace(-1, 1, 5)
    first = [session.step(obs, 0.02).copy() for _ in range(5)]
    session.reset()
    assert not session.state.any()
    again = [session.step(obs, 0.02).copy() for _ in range(5)]
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first[0], first[-1]), 'recurrence should change the action'


def test_dt_changes_the_step_of_a_continuous_time_cell(tmp_path):
    path = tmp_path / 'cfc.onnx'
    build_model(path, cell='cfc', n_obs=5, n_hidden=16, n_act=2)
    session = load_controller(path)
    obs = np.ones(5)
    short = session.step(obs, 0.001).copy()
    session.reset()
    long = session.step(obs, 0.5)
    assert not np.allclose(short, long)


@pytest.mark.parametrize('bad_obs', [
    [np.nan, 0, 0, 0, 0], [0, np.inf, 0, 0, 0], [0, 0, -np.inf, 0, 0], [0, 0, 0, 0, 1e39]])
def test_non_finite_observation_is_rejected_and_state_kept(model, bad_obs):
    path, _ = model
    session = load_controller(path)
    session.step(np.ones(5), 0.02)
    before = session.state
    with pytest.raises(StepRejected, match='non-finite observation'):
        session.step(bad_obs, 0.02)
    np.testing.assert_array_equal(session.state, before)
    assert session.rejected == 1
    assert np.isfinite(session.step(np.ones(5), 0.02)).all()


@pytest.mark.parametrize('bad_dt', [0.0, -0.01, math.nan, math.inf, -math.inf, 'soon', None])
def test_bad_dt_is_rejected_and_state_kept(model, bad_dt):
    path, _ = model
    session = load_controller(path)
    session.step(np.ones(5), 0.02)
    before = session.state
    with pytest.raises(StepRejected, match='dt'):
        session.step(np.ones(5), bad_dt)
    np.testing.assert_array_equal(session.state, before)


@pytest.mark.parametrize('obs', [np.ones(4), np.ones(6), np.ones((2, 5)), []])
def test_wrong_observation_size_is_rejected(model, obs):
    path, _ = model
    session = load_controller(path)
    with pytest.raises(StepRejected, match='observation has'):
        session.step(obs, 0.02)
    assert not session.state.any()


def test_actions_are_finite_and_within_limits_for_huge_inputs(model):
    path, ref = model
    session = load_controller(path)
    high = np.asarray(session.metadata.action_high)
    rng = np.random.default_rng(1)
    stepped = 0
    for scale in (1e3, 1e10, 1e30):
        for _ in range(20):
            try:
                action = session.step(rng.normal(0, scale, 5), rng.uniform(1e-4, 10))
            except StepRejected:
                continue
            stepped += 1
            assert np.isfinite(action).all()
            assert (np.abs(action) <= high).all()
    assert stepped >= 20      # the limits were checked on real steps, not only on refusals


def test_actions_are_clipped_to_the_metadata_limits_whatever_the_graph_outputs(tmp_path):
    # The graph squashes its output into +-act_high (1 and 10 here); the metadata declares
    # tighter limits. The runtime's own final clip is what keeps the action within them.
    from model_factory import ReferenceCell, default_metadata
    ref = ReferenceCell('gru', 5, 16, 2, 3)
    meta = default_metadata(ref, action_low=(-0.2, -0.5), action_high=(0.3, 0.5))
    path = tmp_path / 'tight.onnx'
    build_model(path, cell='gru', n_obs=5, n_hidden=16, n_act=2, seed=3, metadata=meta)
    session = load_controller(path)
    rng = np.random.default_rng(2)
    h = np.zeros(16)
    outside = 0
    for _ in range(200):
        obs, dt = rng.normal(0, 3, 5), 0.02
        raw, h = ref.step(obs, h, dt)
        action = session.step(obs, dt)
        expected = np.clip(raw, [-0.2, -0.5], [0.3, 0.5])
        np.testing.assert_allclose(action, expected, atol=2e-5)
        outside += int(((raw < [-0.2, -0.5]) | (raw > [0.3, 0.5])).any())
    assert outside > 50        # the graph really does go beyond the limits


def test_non_finite_model_output_is_rejected(tmp_path):
    # std of zero inside the graph turns any observation into inf/nan: a broken model.
    path = tmp_path / 'broken.onnx'
    ref = build_model(path, cell='cfc', n_obs=5, n_hidden=8, n_act=1)
    import onnx
    from onnx import numpy_helper
    proto = onnx.load(str(path))
    for init in proto.graph.initializer:
        if init.name == 'std':
            init.CopyFrom(numpy_helper.from_array(np.zeros_like(ref.std)[None], 'std'))
    onnx.save(proto, str(path))
    session = load_controller(path)
    with pytest.raises(StepRejected, match='non-finite output'):
        session.step(ref.mean + 1.0, 0.02)
    assert not session.state.any()


def test_expected_sha256_is_checked(model):
    path, _ = model
    session = ControllerSession(path)
    assert len(session.file_sha256) == 64
    ControllerSession(path, expected_sha256=session.file_sha256.upper())
    with pytest.raises(ValueError, match='does not match'):
        ControllerSession(path, expected_sha256='0' * 64)
