"""Diff-drive task on real MuJoCo: drive kinematics (ROS convention: x forward, y left, yaw
CCW), interface, physics changes, path-relative observation and the expert."""
import math
import time

import mujoco
import numpy as np
import pytest

from liquid_control.control.path_features import path_features
from liquid_control.sim.episode import evaluate
from liquid_control.sim.paths import path_length
from liquid_control.tasks import get_task
from liquid_control.tasks.diffdrive import (GOAL_TOLERANCE, HOLD_SECONDS, MAX_CROSS_TRACK,
                                            REFERENCE_SPEED, REST_SPEED, STOP_ALLOWANCE)
from liquid_control.tasks.diffdrive.env import DiffDriveEnv
from liquid_control.tasks.diffdrive.expert import DiffDriveExpert

DIFFDRIVE = get_task('diffdrive')


def place(env, x=0.0, y=0.0, yaw=0.0):
    """Put the robot at rest at a pose (after a reset, so a path exists)."""
    env.data.qpos[:7] = (x, y, env.physical_wheel_radius, math.cos(yaw / 2), 0, 0,
                         math.sin(yaw / 2))
    env.data.qvel[:] = 0.0
    env.apply([0.0, 0.0])
    mujoco.mj_forward(env.model, env.data)


def drive(env, twist, seconds, tick=0.02):
    env.apply(twist)
    for _ in range(int(round(seconds / tick))):
        env.advance(tick)


def fresh(physics=None, seed=0):
    env = DiffDriveEnv(physics)
    env.reset(np.random.default_rng(seed))
    place(env)
    return env


@pytest.fixture(scope='module')
def env():
    return DiffDriveEnv()


def test_configuration(env):
    assert env.physics_dt <= 0.002
    assert env.wheel_radius == pytest.approx(0.05)
    assert env.wheel_separation == pytest.approx(0.30)
    assert env.joint_names == ('left_wheel_joint', 'right_wheel_joint')   # as JointState


def test_equal_wheel_speeds_drive_straight_forward():
    env = fresh()
    drive(env, [0.5, 0.0], 2.0)
    x, y, yaw = env.pose()
    assert x == pytest.approx(1.0, rel=0.05)
    assert abs(y) < 0.01 and abs(yaw) < 0.01
    v, omega = env.twist()
    assert v == pytest.approx(0.5, rel=0.03) and abs(omega) < 0.01
    left, right = env.joint_velocities()
    assert left == pytest.approx(right, rel=1e-3)
    assert left == pytest.approx(0.5 / env.wheel_radius, rel=0.02)


def test_positive_angular_z_turns_counter_clockwise():
    env = fresh()
    drive(env, [0.0, 1.0], 1.0)
    x, y, yaw = env.pose()
    assert yaw == pytest.approx(1.0, rel=0.05)
    assert math.hypot(x, y) < 0.02                          # turns on the spot
    assert env.twist()[1] == pytest.approx(1.0, rel=0.03)
    left, right = env.joint_velocities()
    assert right > 0 > left
    env = fresh()
    drive(env, [0.4, 0.8], 1.0)                             # forward and left: y grows
    assert env.pose()[1] > 0.1
    env = fresh()
    drive(env, [0.4, -0.8], 1.0)
    assert env.pose()[1] < -0.1


def test_twist_is_in_the_body_frame():
    env = fresh()
    place(env, yaw=2.5)
    drive(env, [0.5, 0.0], 1.0)
    v, omega = env.twist()
    assert v == pytest.approx(0.5, rel=0.03)
    x, y, yaw = env.pose()
    assert math.atan2(y, x) == pytest.approx(2.5, abs=0.02)


def test_apply_clips_to_spec_limits(env):
    env.reset(np.random.default_rng(0))
    env.apply([5.0, -9.0])
    assert env.action.tolist() == [DIFFDRIVE.action_high[0], DIFFDRIVE.action_low[1]]
    env.apply([-1.0, 0.0])                       # no reversing: linear.x >= 0
    assert env.action[0] == DIFFDRIVE.action_low[0]


def test_wheel_radius_change_is_a_model_mismatch():
    nominal, bigger = fresh(), fresh({'wheel_radius_scale': 1.1})
    assert bigger.wheel_radius == nominal.wheel_radius          # configured value kept
    assert bigger.physical_wheel_radius == pytest.approx(0.055)
    for env in (nominal, bigger):
        drive(env, [0.5, 0.0], 2.0)
    assert bigger.twist()[0] == pytest.approx(1.1 * nominal.twist()[0], rel=0.02)
    assert abs(bigger.pose()[1]) < 0.01                        # still straight, level


def test_wheel_separation_change_slows_turning():
    nominal, wider = fresh(), fresh({'wheel_separation_scale': 1.25})
    for env in (nominal, wider):
        drive(env, [0.0, 1.0], 0.5)
    assert wider.twist()[1] == pytest.approx(nominal.twist()[1] / 1.25, rel=0.05)
    with pytest.raises(ValueError, match='unknown physics change'):
        DiffDriveEnv({'wheel_colour': 1.0})


def test_reset_draws_a_path_near_the_robot(env):
    rng = np.random.default_rng(5)
    lengths = set()
    for _ in range(10):
        env.reset(rng)
        path = env.path()
        assert path.ndim == 2 and path.shape[1] == 2
        assert 6.0 - 0.05 <= path_length(path) <= 10.0 + 0.05
        lengths.add(round(path_length(path), 2))
        x, y, yaw = env.pose()
        assert math.hypot(x - path[0, 0], y - path[0, 1]) <= 0.12
        obs = env.observe()
        assert obs.shape == (DIFFDRIVE.n_obs,) and obs.dtype == np.float64
        assert abs(obs[0]) <= 0.1 + 1e-6 and abs(obs[1]) <= 0.2 + 1e-6
        assert env.arrival_limit == pytest.approx(path_length(path) / REFERENCE_SPEED)
        assert env.time_limit == pytest.approx(env.arrival_limit + HOLD_SECONDS + STOP_ALLOWANCE)
        assert np.all(env.goal() == path[-1])
        assert not env.done()
    assert len(lengths) == 10


def test_observation_is_the_path_features_of_the_true_pose():
    env = fresh(seed=2)
    drive(env, [0.3, 0.2], 0.5)
    x, y, yaw = env.pose()
    v, omega = env.twist()
    expected, _ = path_features((x, y), yaw, v, omega, env.path(), hint=0)
    assert env.observe() == pytest.approx(expected)


def test_leaving_the_path_by_far_ends_the_episode_failed():
    env = fresh(seed=3)
    path = env.path()
    normal = np.array([-(path[1] - path[0])[1], (path[1] - path[0])[0]])
    side = path[0] + 1.5 * normal / np.linalg.norm(normal)
    place(env, *side)
    env.advance(0.02)
    assert env.done()
    metrics = env.metrics()
    assert metrics['lost'] and not metrics['success']


def end_of_path(env, before=0.6):
    """Follow the path with the expert until `before` metres from its end."""
    expert = DiffDriveExpert()
    while env.goal_distance > before:
        env.apply(expert.act(env.observe(), 0.02))
        env.advance(0.02)


def test_success_needs_stopping_at_the_goal_and_resting_there():
    env = fresh(seed=4)
    end_of_path(env)
    drive(env, [0.3, 0.0], 3.0)                  # through the goal without stopping
    m = env.metrics()
    assert m['reached_goal'] and not m['stopped_at_goal'] and not env.done()
    assert not m['success'] and m['goal_distance'] > GOAL_TOLERANCE

    env = fresh(seed=4)
    end_of_path(env)
    drive(env, [0.3, 0.0], 1.5)                  # into the goal, then stop and wait
    drive(env, [0.0, 0.0], HOLD_SECONDS - 0.5)
    m = env.metrics()
    assert m['rest_time'] > 0 and not m['stopped_at_goal'] and not m['success']  # too short
    drive(env, [0.0, 0.0], 1.0)
    m = env.metrics()
    assert m['success'] and m['stopped_at_goal'] and not env.done()
    assert m['time'] - m['rest_time'] >= HOLD_SECONDS - 1e-9
    assert abs(m['speed']) < REST_SPEED and m['goal_distance'] < GOAL_TOLERANCE
    # The episode goes on to its time limit: driving off again after the hold fails it.
    drive(env, [0.3, 0.0], 2.0)
    m = env.metrics()
    assert not m['success'] and not m['stopped_at_goal'] and m['goal_distance'] > GOAL_TOLERANCE
    drive(env, [0.0, 0.0], env.time_limit - env.time)
    assert env.done() and not env.metrics()['success']


def test_turning_on_the_spot_at_the_goal_is_not_resting():
    env = fresh(seed=4)
    end_of_path(env)
    drive(env, [0.3, 0.0], 1.5)
    drive(env, [0.0, 1.0], HOLD_SECONDS + 1.0)
    m = env.metrics()
    assert m['goal_distance'] < GOAL_TOLERANCE and not m['stopped_at_goal']
    assert not env.done() and not m['success']


def test_expert_only_reads_the_observation_and_stops_at_the_goal():
    expert = DiffDriveExpert()
    expert.reset()
    on_path = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0])
    assert expert.act(on_path, 0.02) == pytest.approx([expert.max_speed, 0.0])
    left_of_path = on_path + [0.2, 0, 0, 0, 0, 0, 0, 0]
    assert expert.act(left_of_path, 0.02)[1] < 0                # steers back right
    curving_left = on_path + [0, 0, 1.0, 1.0, 1.0, 0, 0, 0]
    v, omega = expert.act(curving_left, 0.02)
    assert v < expert.max_speed and omega == pytest.approx(v * 1.0)
    at_goal = on_path * [1, 1, 1, 1, 1, 0, 1, 1]
    assert expert.act(at_goal, 0.02)[0] == 0.0
    # At the goal it does not turn either, even slightly off the path: it stays at rest.
    assert expert.act(at_goal + [0.05, 0.1, 0, 0, 0, 0, 0, 0], 0.02).tolist() == [0.0, 0.0]


@pytest.mark.slow
def test_expert_follows_random_paths_to_the_goal():
    evaluation = evaluate(DiffDriveEnv, DiffDriveExpert, episodes=20, seed=0)
    summary = evaluation.summary
    assert summary['success_rate'] >= 0.95, [r.metrics for r in evaluation.results]
    for result in evaluation.results:
        m = result.metrics
        assert m['reached_goal'] and m['goal_distance'] < GOAL_TOLERANCE
        assert m['goal_time'] < m['arrival_limit'] and m['stopped_at_goal']
        # At rest at the goal from well before the end to the end of the episode.
        assert m['time'] == pytest.approx(m['time_limit'], abs=0.021)
        assert m['time'] - m['rest_time'] >= HOLD_SECONDS
        assert result.max_tracking_error < MAX_CROSS_TRACK
    assert summary['mean_tracking_error'] < 0.05


def test_step_cost(record_property):
    env = fresh()
    ticks = 100
    start = time.perf_counter()
    for _ in range(ticks):
        env.apply([0.5, 0.3])
        env.advance(0.02)
        env.observe()
    elapsed = time.perf_counter() - start
    steps = ticks * round(0.02 / env.physics_dt)
    per_tick, per_step = elapsed / ticks * 1e6, elapsed / steps * 1e6
    record_property('diffdrive_us_per_physics_step', round(per_step, 2))
    record_property('diffdrive_us_per_control_tick', round(per_tick, 1))
    print(f'diff-drive: {per_step:.2f} us per physics step, {per_tick:.1f} us per tick')
    assert per_step < 200.0       # generous: only catches a pathological slowdown
