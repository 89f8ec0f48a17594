"""ControllerSession.step's refusals word for word (the node logs them as its rejection
reason), the counters, the state left exactly as it was, and the file hash the node reports."""
import hashlib
import math

import numpy as np
import pytest

from liquid_control.runtime import StepRejected, load_controller
from liquid_control.runtime.session import file_sha256

from model_factory import build_model


@pytest.fixture
def session(tmp_path):
    path = tmp_path / 'pilot.onnx'
    build_model(path, cell='gru', n_obs=3, n_hidden=8, n_act=1, seed=1)
    s = load_controller(path)
    s.step(np.array([0.3, -0.2, 0.1]), 0.02)       # a state away from zero
    return s


@pytest.mark.parametrize('obs, dt, reason', [
    ([0.0, 0.0, 0.0], 'fast', "dt 'fast' is not a number"),
    ([0.0, 0.0, 0.0], None, 'dt None is not a number'),
    ([0.0, 0.0, 0.0], 0.0, 'dt must be a finite number > 0 s, got 0.0'),
    ([0.0, 0.0, 0.0], -0.02, 'dt must be a finite number > 0 s, got -0.02'),
    ([0.0, 0.0, 0.0], math.inf, 'dt must be a finite number > 0 s, got inf'),
    ([0.0, 0.0, 0.0], math.nan, 'dt must be a finite number > 0 s, got nan'),
    ([0.0, 0.0], 0.02, 'observation has 2 values, the model takes 3 (obs_0, obs_1, obs_2)'),
    ([[0.0, 0.0, 0.0, 0.0]], 0.02,
     'observation has 4 values, the model takes 3 (obs_0, obs_1, obs_2)'),
    ([0.0, math.nan, math.inf], 0.02, 'non-finite observation (as float32) obs_1, obs_2'),
    ([1e39, 0.0, 0.0], 0.02, 'non-finite observation (as float32) obs_0'),
    # The node passes a float64 vector: the same refusals on that path.
    (np.array([0.0, math.nan, 0.0]), 0.02, 'non-finite observation (as float32) obs_1'),
    (np.array([0.0, 0.0, -1e39]), 0.02, 'non-finite observation (as float32) obs_2'),
    (np.zeros(4), 0.02, 'observation has 4 values, the model takes 3 (obs_0, obs_1, obs_2)'),
    (np.zeros(2, np.float32), 0.02,
     'observation has 2 values, the model takes 3 (obs_0, obs_1, obs_2)'),
])
def test_each_refusal_word_for_word_with_the_state_kept(session, obs, dt, reason):
    state, steps = session.state, session.steps
    with pytest.raises(StepRejected) as error:
        session.step(obs, dt)
    assert str(error.value) == f'pilot.onnx: step rejected: {reason}'
    assert (session.rejected, session.steps) == (1, steps)
    np.testing.assert_array_equal(session.state, state)


def test_an_observation_of_any_shape_with_the_right_size_steps(session):
    session.reset()
    flat = session.step(np.array([0.1, 0.2, 0.3]), 0.02).copy()
    session.reset()
    column = session.step(np.array([[0.1], [0.2], [0.3]]), 0.02)
    np.testing.assert_array_equal(flat, column)
    assert session.steps == 3 and session.rejected == 0


def test_after_a_refused_observation_it_steps_on_as_if_it_had_not_come(tmp_path):
    path = tmp_path / 'pilot.onnx'
    build_model(path, cell='gru', n_obs=3, n_hidden=8, n_act=1, seed=1)
    session, twin = load_controller(path), load_controller(path)
    good = np.array([0.3, -0.2, 0.1])
    for s in (session, twin):
        s.step(good, 0.02)
    with pytest.raises(StepRejected):
        session.step(np.array([math.inf, 0.0, 0.0]), 0.02)
    np.testing.assert_array_equal(session.step(good * 2, 0.03), twin.step(good * 2, 0.03))
    np.testing.assert_array_equal(session.state, twin.state)


def test_reset_zeroes_the_state_only(session):
    assert np.abs(session.state).max() > 0
    session.reset()
    np.testing.assert_array_equal(session.state, np.zeros_like(session.state))
    fresh = load_controller(session.path)
    obs = np.array([0.1, 0.2, 0.3])
    np.testing.assert_array_equal(session.step(obs, 0.02), fresh.step(obs, 0.02))


def test_the_state_is_a_copy(session):
    state = session.state
    state[:] = 99.0
    assert not (session.state == 99.0).any()


def test_the_file_hash_is_the_hash_of_the_whole_file(tmp_path):
    path = tmp_path / 'big.bin'
    data = bytes(range(256)) * 9000      # more than one read block
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_it_names_itself(session):
    assert session.name == 'pilot'
    assert repr(session) == (f'ControllerSession({str(session.path)!r}, arch=gru, '
                             'task=cartpole, n_obs=3, n_state=8, n_act=1)')


def test_a_step_whose_output_is_not_finite_leaves_the_state_it_had(tmp_path):
    # A normalisation with a tiny std: observations near the mean step normally, one far
    # from it overflows float32 inside the graph and the outputs are not finite.
    import onnx
    from onnx import numpy_helper
    path = tmp_path / 'fragile.onnx'
    ref = build_model(path, cell='gru', n_obs=3, n_hidden=8, n_act=1, seed=2)
    proto = onnx.load(str(path))
    for init in proto.graph.initializer:
        if init.name == 'std':
            init.CopyFrom(numpy_helper.from_array(np.full_like(ref.std, 1e-30)[None], 'std'))
    onnx.save(proto, str(path))
    session = load_controller(path)
    near = ref.mean + np.array([1e-31, -2e-31, 3e-31], np.float32)
    for _ in range(3):
        session.step(near, 0.02)
    state = session.state
    assert np.abs(state).max() > 1e-3, 'the state should have moved'
    with pytest.raises(StepRejected, match='the model produced a non-finite output'):
        session.step(ref.mean + 1e9, 0.02)
    np.testing.assert_array_equal(session.state, state)
    # And it steps on from there as if the rejected step had not happened.
    twin = load_controller(path)
    for _ in range(3):
        twin.step(near, 0.02)
    np.testing.assert_array_equal(session.step(near, 0.02), twin.step(near, 0.02))
    np.testing.assert_array_equal(session.state, twin.state)
