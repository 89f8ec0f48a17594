"""Cart-pole task on real MuJoCo: passive physics, interface, physics changes, the expert."""
import math
import time

import mujoco
import numpy as np
import pytest

from liquid_control.sim.env import wrap_angle as wrapped
from liquid_control.sim.episode import evaluate
from liquid_control.sim.lqr import dlqr, linearise
from liquid_control.tasks import get_task
from liquid_control.tasks.cartpole import CART_JOINT, POLE_JOINT, RAIL_LIMIT
from liquid_control.tasks.cartpole.env import CartPoleEnv
from liquid_control.tasks.cartpole.expert import CartPoleExpert

CARTPOLE = get_task('cartpole')


def set_state(env, x=0.0, angle=0.0, x_rate=0.0, rate=0.0):
    mujoco.mj_resetData(env.model, env.data)
    env.data.qpos[:] = (x, angle)
    env.data.qvel[:] = (x_rate, rate)
    env.apply([0.0])
    mujoco.mj_forward(env.model, env.data)


def run_passive(env, seconds, tick=0.02):
    for _ in range(int(round(seconds / tick))):
        env.advance(tick)


@pytest.fixture(scope='module')
def env():
    return CartPoleEnv()


def test_timestep_and_limits_match_spec(env):
    assert env.physics_dt <= 0.002
    assert round(CARTPOLE.nominal_dt / env.physics_dt) * env.physics_dt == \
        pytest.approx(CARTPOLE.nominal_dt)
    assert env.model.actuator_ctrlrange[0].tolist() == [CARTPOLE.action_low[0],
                                                         CARTPOLE.action_high[0]]
    assert env.joint_names == (CART_JOINT, POLE_JOINT)
    assert [env.model.joint(i).name for i in range(env.model.njnt)] == list(env.joint_names)


def test_observation_is_joint_state_in_spec_order(env):
    env.reset(np.random.default_rng(0))
    obs = env.observe()
    assert obs.dtype == np.float64 and obs.shape == (CARTPOLE.n_obs,)
    positions, velocities = env.joint_positions(), env.joint_velocities()
    assert obs.tolist() == [positions[0], velocities[0], positions[1], velocities[1]]


def test_reset_starts_near_hanging(env):
    rng = np.random.default_rng(1)
    for _ in range(20):
        env.reset(rng)
        x, x_rate, angle, rate = env.observe()
        assert abs(angle - math.pi) <= 0.3 and abs(x) <= 0.5
        assert abs(x_rate) <= 0.2 and abs(rate) <= 0.5
        assert env.time == 0.0 and not env.done()


@pytest.mark.parametrize('tilt', [0.05, -0.05])
def test_pole_released_near_upright_falls_the_way_it_leans(env, tilt):
    set_state(env, angle=tilt)
    run_passive(env, 1.0)
    angle = env.observe()[2]
    assert abs(angle) > 1.0
    assert math.copysign(1.0, angle) == math.copysign(1.0, tilt)


def test_passive_energy_is_conserved():
    env = CartPoleEnv()
    env.model.opt.enableflags |= mujoco.mjtEnableBit.mjENBL_ENERGY
    set_state(env, angle=1.0)
    start = env.data.energy.sum()
    swing = 2 * 0.15 * 9.81 * 0.3            # hanging-to-upright energy of the pole, J
    drift = []
    for _ in range(100):                      # 2 s
        env.advance(0.02)
        drift.append(env.data.energy.sum() - start)
    assert max(abs(d) for d in drift) < 0.01 * swing
    # and momentum along the rail is conserved with no force: the cart reacts
    assert abs(env.observe()[0]) > 1e-3


def test_hanging_pole_at_rest_stays(env):
    set_state(env, angle=math.pi)
    run_passive(env, 1.0)
    assert env.observe() == pytest.approx([0.0, 0.0, math.pi, 0.0], abs=1e-6)


def test_positive_force_pushes_cart_to_positive_x(env):
    set_state(env, angle=math.pi)
    env.apply([10.0])
    env.advance(0.2)
    assert env.observe()[1] > 0.5


def test_apply_clips_to_spec_limits_and_holds(env):
    set_state(env, angle=math.pi)
    env.apply([1000.0])
    assert env.action.tolist() == [CARTPOLE.action_high[0]]
    env.advance(0.01)
    env.advance(0.01)
    assert env.data.ctrl[0] == CARTPOLE.action_high[0]
    env.apply([-1000.0])
    assert env.data.ctrl[0] == CARTPOLE.action_low[0]
    with pytest.raises(ValueError, match='non-finite'):
        env.apply([math.nan])
    with pytest.raises(ValueError, match='1 action'):
        env.apply([1.0, 2.0])


def test_advance_integrates_whole_physics_steps(env):
    set_state(env, angle=math.pi)
    assert env.advance(0.02) == pytest.approx(0.020)
    assert env.advance(0.0204) == pytest.approx(0.020)
    assert env.advance(0.0) == pytest.approx(env.physics_dt)     # at least one step
    assert env.time == pytest.approx(0.041)


def test_hitting_the_rail_end_is_terminal_and_fails(env):
    set_state(env, angle=math.pi)
    env.apply([30.0])
    while not env.done() and env.time < 5.0:
        env.advance(0.02)
    assert env.done() and env.rail_hit
    assert abs(env.observe()[0]) >= RAIL_LIMIT - 0.05
    assert not env.metrics()['success']


def test_upright_balance_counts_as_success_only_after_the_window():
    env = CartPoleEnv()
    expert = CartPoleExpert()
    set_state(env, angle=0.05)
    while env.time < 1.0:
        env.apply(expert.act(env.observe(), 0.02))
        env.advance(0.02)
    assert not env.metrics()['success']            # less than the 2 s window so far
    while env.time < 3.0:
        env.apply(expert.act(env.observe(), 0.02))
        env.advance(0.02)
    metrics = env.metrics()
    assert metrics['success'] and metrics['max_tracking_error'] < 0.2
    assert env.reward() > 0.0


def test_physics_changes_change_the_dynamics():
    base, heavy, short = (CartPoleEnv(), CartPoleEnv({'pole_mass_scale': 1.5}),
                          CartPoleEnv({'pole_length_scale': 0.7}))
    pole = base.model.body('pole').id
    assert heavy.model.body_mass[pole] == pytest.approx(1.5 * base.model.body_mass[pole])
    assert short.model.body_ipos[pole][2] == pytest.approx(0.7 * base.model.body_ipos[pole][2])
    pushed = []
    for env in (base, heavy):
        set_state(env, angle=math.pi)
        env.apply([5.0])
        run_passive(env, 0.3)
        pushed.append(env.observe())
    assert pushed[1][1] < pushed[0][1] - 0.01       # heavier pole: the cart accelerates less
    falling = []
    for env in (base, short):
        set_state(env, angle=0.1)
        run_passive(env, 0.3)
        falling.append(env.observe())
    assert falling[1][2] > falling[0][2] + 0.05     # shorter pole: falls faster
    with pytest.raises(ValueError, match='unknown physics change'):
        CartPoleEnv({'pole_colour': 2.0})
    with pytest.raises(ValueError, match='positive'):
        CartPoleEnv({'pole_mass_scale': 0.0})


def test_lqr_gain_stabilises_the_linearised_upright_model(env):
    a, b = linearise(env.model, np.zeros(2), np.zeros(2), np.zeros(1), 0.02)
    gain = dlqr(a, b, np.diag([2.0, 20.0, 0.5, 1.0]), np.array([[0.02]]))
    assert np.max(np.abs(np.linalg.eigvals(a))) > 1.0              # upright is unstable
    assert np.max(np.abs(np.linalg.eigvals(a - b @ gain))) < 1.0


def test_expert_only_reads_the_observation():
    expert = CartPoleExpert()
    expert.reset()
    obs = np.array([0.1, 0.0, 0.05, 0.0])
    first = expert.act(obs, 0.02)
    assert first.shape == (CARTPOLE.n_act,)
    assert expert.act(obs.copy(), 0.02) == pytest.approx(first)     # stateless
    # the angle is used modulo a full turn
    assert expert.act(obs + [0, 0, 4 * math.pi, 0], 0.02) == pytest.approx(first)


def test_expert_swings_up_and_balances():
    evaluation = evaluate(CartPoleEnv, CartPoleExpert, episodes=20, seed=0)
    summary = evaluation.summary
    assert summary['success_rate'] >= 0.95, [r.metrics for r in evaluation.results]
    assert summary['mean_tracking_error'] < 0.05
    assert max(r.metrics['max_abs_cart_position'] for r in evaluation.results) < RAIL_LIMIT
    for result in evaluation.results:
        assert abs(wrapped(result.metrics['max_tracking_error'])) < 0.2


def test_step_cost(record_property):
    env = CartPoleEnv()
    env.reset(np.random.default_rng(0))
    ticks = 200
    start = time.perf_counter()
    for _ in range(ticks):
        env.apply([1.0])
        env.advance(0.02)
        env.observe()
    elapsed = time.perf_counter() - start
    per_tick = elapsed / ticks * 1e6
    per_step = elapsed / (ticks * 20) * 1e6
    record_property('cartpole_us_per_physics_step', round(per_step, 2))
    record_property('cartpole_us_per_control_tick', round(per_tick, 1))
    print(f'cart-pole: {per_step:.2f} us per physics step, {per_tick:.1f} us per tick')
    assert per_step < 100.0       # generous: only catches a pathological slowdown
