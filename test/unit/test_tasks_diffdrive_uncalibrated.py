"""The diff-drive with uncalibrated wheels on real MuJoCo: per-episode wheel scales the
controller does not observe, and the privileged expert that commands through them."""
import math

import mujoco
import numpy as np
import pytest

from liquid_control.sim.episode import evaluate
from liquid_control.tasks import get_task
from liquid_control.tasks.diffdrive.expert import CalibratedExpert, DiffDriveExpert
from liquid_control.tasks.diffdrive.uncalibrated import (MAX_CROSS_TRACK, PATH_LENGTH_RANGE,
                                                         POSE_FEATURES, WHEEL_SCALE_SPREAD)
from liquid_control.tasks.diffdrive.uncalibrated_env import UncalibratedDriveEnv

TASK = get_task('diffdrive_uncalibrated')


def at_rest_at_origin(env, scales):
    env.reset(np.random.default_rng(0))
    env.wheel_scales = scales
    env.data.qpos[:7] = (0.0, 0.0, env.physical_wheel_radius, 1.0, 0.0, 0.0, 0.0)
    env.data.qvel[:] = 0.0
    mujoco.mj_forward(env.model, env.data)


def drive(env, twist, seconds, tick=0.02):
    env.apply(twist)
    for _ in range(int(round(seconds / tick))):
        env.advance(tick)


def test_the_task_is_the_diffdrive_from_its_pose_with_its_own_rules_and_no_gazebo_world():
    diffdrive = get_task('diffdrive')
    assert TASK.obs_names == POSE_FEATURES and TASK.action_names == diffdrive.action_names
    assert set(diffdrive.obs_names) - set(POSE_FEATURES) == {'linear_velocity',
                                                             'angular_velocity'}
    assert TASK.partially_observed and TASK.full_task.unobserved
    assert not diffdrive.partially_observed
    assert f'never more than {MAX_CROSS_TRACK} m from the path' in TASK.success_rule
    assert MAX_CROSS_TRACK < 0.3 and TASK.episode_seconds < diffdrive.episode_seconds
    assert TASK.gazebo is None and TASK.params_file.name == 'diffdrive_uncalibrated.yaml'


def test_each_episode_draws_its_wheel_scales_from_its_own_stream():
    env = UncalibratedDriveEnv()
    drawn = []
    for seed in range(20):
        env.reset(np.random.default_rng(seed))
        drawn.append(env.wheel_scales)
        assert PATH_LENGTH_RANGE[0] - 0.1 <= env.tracker.length <= PATH_LENGTH_RANGE[1] + 0.1
    assert all(abs(s - 1.0) <= WHEEL_SCALE_SPREAD for pair in drawn for s in pair)
    assert len(set(drawn)) == 20 and np.ptp(np.array(drawn)) > WHEEL_SCALE_SPREAD
    env.reset(np.random.default_rng(7))
    first = env.wheel_scales
    env.reset(np.random.default_rng(7))
    assert env.wheel_scales == first
    assert env.metrics()['left_wheel_scale'] == first[0]


def test_uncalibrated_wheels_curve_a_straight_command():
    env = UncalibratedDriveEnv()
    at_rest_at_origin(env, (0.8, 1.2))          # right wheel faster: curves left
    drive(env, [0.4, 0.0], 2.0)
    v, omega = env.twist()
    assert v == pytest.approx(0.4, rel=0.05)    # the mean of the two scales is 1
    assert omega == pytest.approx(0.4 * 0.4 / env.wheel_separation, rel=0.1)
    assert env.pose()[1] > 0.05


def test_the_bound_expert_commands_through_the_scales_and_the_base_goes_straight():
    env = UncalibratedDriveEnv()
    at_rest_at_origin(env, (0.8, 1.2))
    expert = CalibratedExpert()
    expert.bind(env)
    half = 0.5 * env.wheel_separation
    # Off the path a little (no command at a limit), then on a straight path far from its end.
    for obs in ([0.02, 0.05, 0.1, 0.1, 0.1, 3.0, 0.3, 0.0], [0, 0, 0, 0, 0, 3.0, 0, 0]):
        unaware = DiffDriveExpert().act(np.array(obs), 0.02)
        command = expert.act(np.array(obs), 0.02)
        # Each wheel's ground speed is what the unaware expert wants of it.
        for sign, scale in ((-1.0, 0.8), (1.0, 1.2)):
            wanted = unaware[0] + sign * half * unaware[1]
            assert scale * (command[0] + sign * half * command[1]) == pytest.approx(wanted)
    drive(env, command, 1.0)
    x, y, yaw = env.pose()
    assert x == pytest.approx(unaware[0], rel=0.1) and abs(yaw) < 0.02 and abs(y) < 0.005


def test_unbound_the_expert_is_the_diffdrive_expert():
    obs = np.array([0.05, -0.1, 0.3, 0.2, 0.0, 3.0, 0.4, 0.1])
    assert np.array_equal(CalibratedExpert().act(obs, 0.02), DiffDriveExpert().act(obs, 0.02))


class Unaware:
    """The expert without the scales: what a controller that does not infer them does."""

    def __init__(self):
        self.expert = DiffDriveExpert()

    def reset(self):
        self.expert.reset()

    def act(self, obs, dt):
        return self.expert.act(obs, dt)


@pytest.mark.slow
def test_the_scales_decide_success_the_expert_knows_them_and_the_unaware_one_fails_often():
    knows = evaluate(UncalibratedDriveEnv, CalibratedExpert, episodes=20, seed=0)
    unaware = evaluate(UncalibratedDriveEnv, Unaware, episodes=20, seed=0)
    assert knows.summary['success_rate'] >= 0.95
    assert all(r.max_tracking_error < MAX_CROSS_TRACK for r in knows.results if r.success)
    assert unaware.summary['success_rate'] <= 0.85
    # It fails by the offset its feedback leaves, the tolerance the diffdrive does not have.
    failed = [r for r in unaware.results if not r.success]
    assert failed and all(r.max_tracking_error >= MAX_CROSS_TRACK or not r.metrics[
        'stopped_at_goal'] for r in failed)
    assert not any(math.isnan(r.max_tracking_error) for r in unaware.results)
