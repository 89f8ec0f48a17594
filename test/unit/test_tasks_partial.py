"""Partially observed tasks (cartpole_positions): the controller sees part of the full
task's observation, the expert acts on all of it, and everything else is the full task's."""
import numpy as np
import pytest

from liquid_control.control.observations import ObservationLayout, ObservationSource
from liquid_control.control.params import parse_sources, read_params_file
from liquid_control.sim.episode import evaluate, run_episode
from liquid_control.tasks import TaskDefinitionError, get_task
from liquid_control.tasks.partial import partially_observed

pytest.importorskip('mujoco')

POSITIONS = ('slider_to_cart.position', 'cart_to_pole.position')


@pytest.fixture(scope='module')
def task():
    return get_task('cartpole_positions')


def test_registered_with_the_full_task_s_robot_rules_and_limits(task):
    full = get_task('cartpole')
    assert task.full_task is full
    assert task.obs_names == POSITIONS
    assert task.obs_scale == (full.obs_scale[0], full.obs_scale[2])
    assert task.angle_obs == ('cart_to_pole.position',)
    for same in ('mjcf', 'action_names', 'action_low', 'action_high', 'nominal_dt',
                 'episode_seconds', 'physics', 'success_rule', 'sim_io'):
        assert getattr(task, same) == getattr(full, same), same
    assert task.has_expert


PARTIAL_TASKS = ('cartpole_positions', 'arm_positions')


@pytest.mark.parametrize('name', PARTIAL_TASKS)
def test_each_partial_task_s_parameters_file_maps_exactly_its_observations(name):
    task = get_task(name)
    assert task.full_task is not None and task.has_expert
    assert set(task.obs_names) < set(task.full_task.obs_names)
    values = read_params_file(task.params_file, 'liquid_controller', '/')
    layout = ObservationLayout([ObservationSource(c, lambda: 0) for c in parse_sources(values)])
    assert layout.names == task.obs_names
    assert values['model'] == f'{name}_cfc'


def test_the_environment_shows_the_positions_of_the_full_state(task):
    env = task.make_env({'pole_mass_scale': 1.3})
    env.reset(np.random.default_rng(3))
    env.apply([5.0])
    env.advance(0.1)
    full = env.full_observation()
    assert full.shape == (4,) and np.all(full[[1, 3]] != 0.0)   # moving: velocities exist
    assert np.array_equal(env.observe(), full[[0, 2]])
    assert list(env.obs_scale) == list(task.obs_scale)
    assert env.physics['pole_mass_scale'] == 1.3 and env.task is task


def test_the_expert_acts_on_the_full_state_not_on_what_it_is_handed(task):
    env, expert = task.make_env(), task.make_expert()
    full_expert = get_task('cartpole').make_expert()
    with pytest.raises(RuntimeError, match='bind'):
        expert.act(np.zeros(2), 0.02)
    expert.bind(env)
    rng = np.random.default_rng(0)
    for _ in range(5):
        env.reset(rng)
        env.advance(rng.uniform(0.02, 0.3))
        state = env.full_observation()
        assert np.array_equal(expert.act(np.full(2, 9.0), 0.02), full_expert.act(state, 0.02))


def test_the_privileged_expert_does_the_task_in_the_episode_runner(task):
    # run_episode binds it: the expert's success on the partial task is the full task's.
    summary = evaluate(task.make_env, task.make_expert, 3, 0, nominal_dt=task.nominal_dt).summary
    assert summary['successes'] == 3


def test_a_partial_task_must_observe_part_of_its_full_task():
    full = get_task('cartpole')
    with pytest.raises(TaskDefinitionError, match=r"\['cart.speed'\] are not observations of "
                                                  "task 'cartpole'"):
        partially_observed(full, 'cartpole_speed', ('cart.speed',), 'x', None)
    with pytest.raises(TaskDefinitionError, match='observes part of task'):
        partially_observed(full, 'cartpole_pos', POSITIONS, 'x', None,
                           action_names=('push',))


def test_dropout_bursts_hold_the_command_and_tell_the_policy_the_whole_gap(task):
    class Recorder:
        def reset(self):
            self.dts = []

        def act(self, obs, dt):
            self.dts.append(dt)
            return [0.0]

    policy, env = Recorder(), task.make_env()
    run_episode(env, policy, np.random.default_rng(1), duration=4.0)
    plain_dts = list(policy.dts)
    run_episode(env, policy, np.random.default_rng(1), duration=4.0,
                dropout_probability=0.2, dropout_ticks=4)
    ticks = np.round(np.array(policy.dts[1:]) / task.nominal_dt)
    assert np.allclose(policy.dts[1:], ticks * task.nominal_dt)   # whole sampling periods
    gaps = ticks[ticks > 1] - 1
    # About one observation in five is followed by a burst of ~4 lost ones.
    assert 0.1 < len(gaps) / len(ticks) < 0.3 and 2.5 < gaps.mean() < 6.0
    assert len(policy.dts) < 0.8 * len(plain_dts)
    assert set(np.round(np.array(plain_dts) / task.nominal_dt)) == {1.0}
    for bad in (dict(dropout_probability=1.0), dict(dropout_probability=-0.1),
                dict(dropout_probability=0.1, dropout_ticks=0.5)):
        with pytest.raises(ValueError, match='dropout'):
            run_episode(env, policy, np.random.default_rng(1), **bad)


def test_the_full_task_lists_its_own_models_not_its_variants():
    from liquid_control.cli.tasks import _models
    cartpole, positions = _models('cartpole'), _models('cartpole_positions')
    assert 'cartpole_cfc' in cartpole and 'cartpole_positions_cfc' in positions
    assert not any(m.startswith('cartpole_positions_') for m in cartpole)
