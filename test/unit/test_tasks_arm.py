"""Two-link arm task (arm, arm_positions) on real MuJoCo: the model against the task's
spec, the target's curve, passive physics and torque signs, the success rule, physics changes,
the expert, the partially observed variant, the parameters files and the simulator's path."""
import math

import mujoco
import numpy as np
import pytest

from liquid_control.control.observations import ObservationLayout, ObservationSource
from liquid_control.control.params import parse_sources, read_params_file
from liquid_control.sim.core import SimConfig, SimCore
from liquid_control.sim.episode import evaluate
from liquid_control.sim.ros_io import JointSample
from liquid_control.tasks import get_task
from liquid_control.tasks.arm import (ELBOW, SHOULDER, SUCCESS_WINDOW, TARGET_X, TARGET_Y,
                                      TRACKING_TOLERANCE)
from liquid_control.tasks.arm.env import TARGET_RADIUS, ArmEnv, TargetCurve
from liquid_control.tasks.arm.expert import ArmExpert

ARM = get_task('arm')
POSITIONS = (f'{SHOULDER}.position', f'{ELBOW}.position', f'{TARGET_X}.position',
             f'{TARGET_Y}.position')


def set_arm(env, shoulder=0.0, elbow=0.0, shoulder_rate=0.0, elbow_rate=0.0, seed=0):
    """A fresh episode (its target curve from `seed`) with the arm in the given state."""
    env.reset(np.random.default_rng(seed))
    env.data.qpos[:2] = (shoulder, elbow)
    env.data.qvel[:2] = (shoulder_rate, elbow_rate)
    mujoco.mj_forward(env.model, env.data)


def run(env, seconds, torque=(0.0, 0.0), tick=0.02):
    env.apply(torque)
    for _ in range(int(round(seconds / tick))):
        env.advance(tick)


@pytest.fixture(scope='module')
def env():
    return ArmEnv()


def test_timestep_joints_and_limits_match_spec(env):
    assert env.physics_dt <= 0.002
    assert round(ARM.nominal_dt / env.physics_dt) * env.physics_dt == \
        pytest.approx(ARM.nominal_dt)
    assert env.joint_names == (SHOULDER, ELBOW, TARGET_X, TARGET_Y)
    assert env.actuator_names == (f'{SHOULDER}_effort', f'{ELBOW}_effort')
    assert env.model.actuator_ctrlrange.tolist() == [
        [low, high] for low, high in zip(ARM.action_low, ARM.action_high)]
    assert ARM.action_names == (f'{SHOULDER}.effort', f'{ELBOW}.effort')
    assert ARM.angle_obs == (f'{SHOULDER}.position', f'{ELBOW}.position')
    assert env.reach == pytest.approx(0.9)
    # The workspace the target moves in is well inside the arm's reach (0.1 to 0.9 m).
    assert 0.1 + 0.1 < TARGET_RADIUS[0] < TARGET_RADIUS[1] < env.reach - 0.1


def test_observation_is_joint_state_in_spec_order(env):
    env.reset(np.random.default_rng(0))
    run(env, 0.1, torque=(3.0, -1.0))
    obs = env.observe()
    assert obs.dtype == np.float64 and obs.shape == (ARM.n_obs,)
    positions, velocities = env.joint_positions(), env.joint_velocities()
    assert np.all(velocities != 0.0)
    assert obs.tolist() == [positions[0], velocities[0], positions[1], velocities[1],
                            positions[2], velocities[2], positions[3], velocities[3]]
    assert ARM.obs_names == tuple(f'{joint}.{field}' for joint in env.joint_names
                                  for field in ('position', 'velocity'))


def test_reset_starts_at_rest_with_the_target_on_its_curve(env):
    rng = np.random.default_rng(1)
    shoulders = []
    for _ in range(20):
        env.reset(rng)
        obs = env.observe()
        assert obs[[1, 3]].tolist() == [0.0, 0.0] and abs(obs[2]) <= 2.5
        position, velocity = env.curve(0.0)
        assert obs[[4, 6]].tolist() == position.tolist()
        assert obs[[5, 7]].tolist() == velocity.tolist()
        assert env.time == 0.0 and not env.done()
        shoulders.append(obs[0])
    assert max(shoulders) - min(shoulders) > math.pi          # anywhere around the shoulder


def test_target_follows_its_curve_with_consistent_velocity(env):
    env.reset(np.random.default_rng(2))
    rows = []
    for _ in range(300):                                       # 6 s
        env.advance(0.02)
        obs = env.observe()
        position, velocity = env.curve(env.time)
        assert obs[[4, 6]] == pytest.approx(position, abs=1e-12)
        assert obs[[5, 7]] == pytest.approx(velocity, abs=1e-12)
        assert np.array_equal(env.data.xpos[env.model.body('target').id][:2], obs[[4, 6]])
        rows.append((env.time, *obs[[4, 5, 6, 7]]))
    t, x, vx, y, vy = np.array(rows).T
    # The velocity is the position's derivative (central differences, O(dt^2)).
    assert np.gradient(x, t)[1:-1] == pytest.approx(vx[1:-1], abs=2e-3)
    assert np.gradient(y, t)[1:-1] == pytest.approx(vy[1:-1], abs=2e-3)
    assert np.ptp(x) + np.ptp(y) > 0.2 and np.max(np.hypot(vx, vy)) > 0.1   # it moves


def test_target_curves_stay_in_the_annulus_and_differ_by_seed():
    times = np.linspace(0.0, 60.0, 6001)
    starts = set()
    for seed in range(30):
        position, velocity = TargetCurve(np.random.default_rng(seed))(times)
        r = np.hypot(*position.T)
        assert TARGET_RADIUS[0] - 1e-9 <= r.min() and r.max() <= TARGET_RADIUS[1] + 1e-9
        assert np.max(np.hypot(*velocity.T)) < 3.0                 # m/s: smooth, not wild
        starts.add(tuple(np.round(position[0], 6)))
    assert len(starts) == 30


def test_the_target_does_not_push_the_arm():
    # Same arm state, different target curves: the arm moves exactly alike.
    arms = []
    for seed in (0, 1):
        env = ArmEnv()
        set_arm(env, shoulder=0.3, elbow=1.0, shoulder_rate=0.5, seed=seed)
        run(env, 1.0, torque=(4.0, -2.0))
        arms.append(env.observe()[:4])
    assert not np.array_equal(TargetCurve(np.random.default_rng(0))(0.0)[0],
                              TargetCurve(np.random.default_rng(1))(0.0)[0])
    assert np.array_equal(arms[0], arms[1])


def test_gravity_pulls_a_released_arm_down(env):
    set_arm(env, shoulder=0.0, elbow=0.0)                      # held out horizontally
    start = env.end_effector()
    run(env, 0.3)
    assert env.observe()[0] < -0.2                             # falls clockwise
    assert env.end_effector()[1] < start[1] - 0.1              # the tip drops (gravity -y)
    set_arm(env, shoulder=-math.pi / 2, elbow=0.0)             # hanging straight down
    run(env, 1.0)
    assert env.observe()[:4] == pytest.approx([-math.pi / 2, 0.0, 0.0, 0.0], abs=1e-6)


def test_positive_torques_turn_the_joints_counter_clockwise(env):
    set_arm(env, shoulder=-math.pi / 2, elbow=0.0)
    run(env, 0.1, torque=(10.0, 0.0))
    elbow_point = env.data.xpos[env.model.body('forearm').id]
    assert env.observe()[1] > 0.5 and elbow_point[0] > 0.05    # swings towards +x
    set_arm(env, shoulder=-math.pi / 2, elbow=0.0)
    run(env, 0.1, torque=(0.0, 3.0))
    assert env.observe()[3] > 0.5


def test_apply_clips_to_spec_limits_and_holds(env):
    set_arm(env)
    env.apply([1000.0, -1000.0])
    assert env.action.tolist() == [ARM.action_high[0], ARM.action_low[1]]
    env.advance(0.01)
    env.advance(0.01)
    assert env.data.ctrl.tolist() == [ARM.action_high[0], ARM.action_low[1]]
    with pytest.raises(ValueError, match='non-finite'):
        env.apply([math.nan, 0.0])
    with pytest.raises(ValueError, match='2 action'):
        env.apply([1.0])


def test_advance_integrates_whole_physics_steps(env):
    set_arm(env)
    assert env.advance(0.02) == pytest.approx(0.020)
    assert env.advance(0.0205) == pytest.approx(0.020)
    assert env.advance(0.0) == pytest.approx(env.physics_dt)     # at least one step
    assert env.time == pytest.approx(0.040 + env.physics_dt)


def test_success_only_after_the_final_window():
    env, expert = ArmEnv(), ArmExpert()
    env.reset(np.random.default_rng(4))
    # Start on the target, moving with it: on target all along.
    set_arm(env, *np.concatenate(expert.inverse_kinematics(*env.curve(0.0))), seed=4)
    assert env.distance() < 1e-9
    while env.time < SUCCESS_WINDOW - 0.1:
        env.apply(expert.act(env.observe(), 0.02))
        env.advance(0.02)
    metrics = env.metrics()
    assert metrics['max_tracking_error'] < TRACKING_TOLERANCE
    assert not metrics['success']                              # the window is not over yet
    while env.time < SUCCESS_WINDOW + 0.1:
        env.apply(expert.act(env.observe(), 0.02))
        env.advance(0.02)
    metrics = env.metrics()
    assert metrics['success'] and metrics['max_tracking_error'] < TRACKING_TOLERANCE
    assert metrics['tracking_error'] == pytest.approx(env.distance(), abs=0.02)
    assert env.reward() == pytest.approx((1.0 - env.distance() / 0.9) * 0.02)
    # A limp arm does not track.
    env.reset(np.random.default_rng(4))
    run(env, ARM.episode_seconds)
    metrics = env.metrics()
    assert not metrics['success'] and metrics['tracking_error'] > 0.2
    assert env.reward() == pytest.approx((1.0 - env.distance() / 0.9) * 0.02)


def test_physics_changes_change_the_dynamics():
    base = ArmEnv()
    heavy = ArmEnv({'payload_scale': 2.0})
    damped = ArmEnv({'damping_scale': 30.0})
    long = ArmEnv({'forearm_length_scale': 1.1})
    forearm = base.model.body('forearm').id                    # its mass holds the payload's
    assert heavy.model.body_mass[forearm] == pytest.approx(base.model.body_mass[forearm] + 0.5)
    assert damped.model.dof_damping[:2] == pytest.approx(30 * base.model.dof_damping[:2])
    assert long.reach == pytest.approx(0.5 + 1.1 * 0.4)
    rates = {}
    for name, env, torque in (('base', base, (10.0, 0.0)), ('heavy', heavy, (10.0, 0.0)),
                              ('base_elbow', base, (0.0, 3.0)),
                              ('damped_elbow', damped, (0.0, 3.0))):
        set_arm(env, shoulder=-math.pi / 2, elbow=0.0)
        run(env, 0.2, torque=torque)
        rates[name] = env.observe()[[1, 3]]
    assert rates['heavy'][0] < rates['base'][0] - 0.2          # more to swing
    assert rates['damped_elbow'][1] < rates['base_elbow'][1] - 0.2   # more drag
    with pytest.raises(ValueError, match='unknown physics change'):
        ArmEnv({'arm_colour': 2.0})
    with pytest.raises(ValueError, match='positive'):
        ArmEnv({'payload_scale': 0.0})


def test_expert_inverse_kinematics_reaches_the_target_moving_with_it():
    expert, env = ArmExpert(), ArmEnv()
    rng = np.random.default_rng(5)
    for _ in range(20):
        r, bearing = rng.uniform(*TARGET_RADIUS), rng.uniform(-math.pi, math.pi)
        target = r * np.array([math.cos(bearing), math.sin(bearing)])
        velocity = rng.normal(size=2)
        angles, rates = expert.inverse_kinematics(target, velocity)
        assert 0.0 < angles[1] < math.pi                       # elbow always on one side
        set_arm(env, *angles, *rates)
        assert env.end_effector() == pytest.approx(target, abs=1e-9)
        jacobian = np.zeros((3, env.model.nv))
        mujoco.mj_jacSite(env.model, env.data, jacobian, None, env._site)
        assert jacobian[:2, :2] @ rates == pytest.approx(velocity, abs=1e-9)
    # Out of reach: the nearest point of the workspace, moving only around the shoulder.
    angles, rates = expert.inverse_kinematics((2.0, 0.0), (1.0, 0.5))
    set_arm(env, *angles, *rates)
    assert env.end_effector() == pytest.approx([expert.max_radius, 0.0], abs=1e-9)
    mujoco.mj_jacSite(env.model, env.data, jacobian, None, env._site)
    assert jacobian[:2, :2] @ rates == pytest.approx([0.0, 0.5], abs=1e-9)   # tangential
    assert np.all(np.isfinite(expert.inverse_kinematics((0.0, 0.0), (1.0, 1.0))[1]))


def test_expert_only_reads_the_observation():
    expert = ArmExpert()
    expert.reset()
    obs = np.array([0.2, 0.1, 1.0, -0.3, 0.4, 0.2, 0.3, -0.1])
    first = expert.act(obs, 0.02)
    assert first.shape == (ARM.n_act,)
    assert np.all(first >= ARM.action_low) and np.all(first <= ARM.action_high)
    expert.act(np.array([3.0, 5.0, -2.0, 4.0, -0.6, 1.0, 0.1, 0.0]), 0.03)
    assert expert.act(obs.copy(), 0.02) == pytest.approx(first)     # stateless
    # the shoulder angle is used modulo a full turn
    assert expert.act(obs + [4 * math.pi, 0, 0, 0, 0, 0, 0, 0], 0.02) == pytest.approx(first)
    # far from the target it pushes as hard as it may
    far = expert.act(np.array([0.0, 0.0, -2.0, 0.0, -0.5, 0.0, 0.2, 0.0]), 0.02)
    assert np.any(np.isclose(np.abs(far), ARM.action_high))


def test_expert_tracks_on_seeded_episodes():
    evaluation = evaluate(ArmEnv, ArmExpert, episodes=5, seed=0)
    summary = evaluation.summary
    assert summary['successes'] == 5, [r.metrics for r in evaluation.results]
    assert summary['mean_tracking_error'] < 0.02
    # It uses the whole torque on the way to the target, but not for long.
    assert 0.0 < summary['metric_means']['saturated_fraction'] < 0.2


def test_arm_positions_observes_the_positions_of_the_full_state():
    task = get_task('arm_positions')
    assert task.full_task is ARM and task.obs_names == POSITIONS
    assert task.angle_obs == ARM.angle_obs
    for same in ('mjcf', 'action_names', 'action_low', 'action_high', 'nominal_dt',
                 'episode_seconds', 'physics', 'success_rule', 'sim_io'):
        assert getattr(task, same) == getattr(ARM, same), same
    env = task.make_env({'payload_scale': 2.0})
    env.reset(np.random.default_rng(3))
    env.apply([5.0, 1.0])
    env.advance(0.1)
    full = env.full_observation()
    assert np.all(full[[1, 3, 5, 7]] != 0.0)                   # moving: velocities exist
    assert np.array_equal(env.observe(), full[[0, 2, 4, 6]])
    assert env.physics['payload_scale'] == 2.0
    expert = task.make_expert()
    expert.bind(env)
    assert np.array_equal(expert.act(np.zeros(4), 0.02), ArmExpert().act(full, 0.02))


@pytest.mark.parametrize('name', ['arm', 'arm_positions'])
def test_parameters_file_maps_exactly_the_task_s_observations_and_actions(name):
    task = get_task(name)
    values = read_params_file(task.params_file, 'liquid_controller', '/')
    layout = ObservationLayout([ObservationSource(c, lambda: 0) for c in parse_sources(values)])
    assert layout.names == task.obs_names
    assert values['model'] == f'{name}_cfc'
    assert tuple(values['action.names']) == task.action_names
    assert tuple(values['action.min']) == task.action_low
    assert tuple(values['action.max']) == task.action_high
    assert values['action.safe'] == [0.0, 0.0]
    assert values['action.topic'] == 'effort_controller/commands'
    assert values['action.type'] == 'std_msgs/msg/Float64MultiArray'


def test_the_simulator_moves_and_publishes_the_target_as_the_environment_does():
    # sim_node steps a task through SimCore.advance_to -> env.advance -> env._integrate.
    core = SimCore(SimConfig(task=ARM, wait_for_controller=False, seed=7))
    for _ in range(50):                                        # 1 s at 50 Hz
        assert core.command([2.0, -1.0])                      # a controller answering
        core.advance_to(core.clock_ns + core.period_ns)
    (sample,) = [s for _, s in core.sample() if isinstance(s, JointSample)]
    env = core.env
    assert env.time == pytest.approx(1.0)
    assert sample.names == (SHOULDER, ELBOW, TARGET_X, TARGET_Y)
    position, velocity = env.curve(env.time)
    assert sample.position[2:] == pytest.approx(position.tolist(), abs=1e-12)
    assert sample.velocity[2:] == pytest.approx(velocity.tolist(), abs=1e-12)
    assert sample.effort == pytest.approx([2.0, -1.0, 0.0, 0.0])
