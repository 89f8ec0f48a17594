"""SimCore (the simulator behind sim_node) without ROS: commands, timeout, noise, latency,
drops, physics changes, pausing until the controller answers, episode resets; a task's
outputs, and any MJCF file without a task."""
import math

import numpy as np
import pytest

pytest.importorskip('mujoco')

from liquid_control.sim.core import NS, SimConfig, SimCore
from liquid_control.sim.ros_io import JointSample, OdomSample, PathSample
from liquid_control.tasks import get_task, task_names
from liquid_control.tasks.cartpole.expert import CartPoleExpert

from ros_fixtures import ROBOTS


def core(task='cartpole', **kw):
    return SimCore(SimConfig(task=None if 'model_file' in kw else get_task(task), **kw))


def step(c, n=1):
    for _ in range(n):
        c.advance_to(c.clock_ns + c.period_ns)


def samples(c, kind):
    return [s for _, s in c.sample() if isinstance(s, kind)]


def joint(c):
    found = samples(c, JointSample)
    return found[0] if found else None


def test_invalid_commands_are_rejected_counted_and_never_applied():
    c = core(wait_for_controller=False)
    assert c.command([5.0])
    for bad in ([math.nan], [math.inf], [1.0, 2.0], []):
        assert not c.command(bad)
    assert c.counts['commands_rejected'] == 4
    assert c.counts['commands_received'] == 1
    assert c.held.tolist() == [5.0]
    assert 'non-finite' in c.last_rejection or 'takes 1' in c.last_rejection


def test_commands_are_clipped_to_the_limits_and_counted():
    c = core(wait_for_controller=False)
    assert c.command([1e6])
    assert c.held.tolist() == [30.0]
    assert c.counts['commands_clipped'] == 1


def test_last_command_is_held_then_zero_after_the_timeout():
    c = core(wait_for_controller=False, command_timeout_s=0.1)
    c.command([10.0])
    step(c, 4)                                   # 80 ms: still held
    assert c.applied_command().tolist() == [10.0] and not c.timed_out
    step(c, 2)                                   # 120 ms: timed out
    assert c.applied_command().tolist() == [0.0]
    assert c.counts['command_timeouts'] == 1
    c.command([3.0])                             # a new command takes over again
    assert c.applied_command().tolist() == [3.0]


def test_timeout_takes_effect_within_the_interval_not_at_its_end():
    """A command that times out mid-advance drives only until the timeout: compare with a
    run that stops commanding at exactly that moment."""
    a = core(wait_for_controller=False, command_timeout_s=0.05)
    a.command([30.0])
    a.advance_to(a.clock_ns + int(0.2 * NS))
    b = core(wait_for_controller=False, command_timeout_s=0.0)
    b.command([30.0])
    b.advance_to(b.clock_ns + int(0.05 * NS))   # exactly the 50 ms the timeout allows
    b.command([0.0])
    b.advance_to(int(0.2 * NS))
    assert np.allclose(a.env.observe(), b.env.observe(), atol=1e-9)


def test_waits_for_the_first_command_with_the_clock_running():
    c = core()                                   # wait_for_controller defaults to True
    start = c.env.observe().copy()
    step(c, 10)
    assert c.clock_ns == 10 * c.period_ns
    assert np.array_equal(c.env.observe(), start) and c.episode_time == 0.0
    c.command([0.0])
    step(c, 1)
    assert c.running and c.episode_time == pytest.approx(0.02)
    assert c.episode_start_ns == 10 * c.period_ns


def test_expert_swings_up_in_the_core_alone():
    c = core(run_duration_s=10.0)
    expert = CartPoleExpert()
    while not c.finished:
        s = joint(c)
        c.command(expert.act([s.position[0], s.velocity[0], s.position[1], s.velocity[1]],
                             0.02))
        step(c)
    assert c.metrics()['success']
    assert c.episode_time == pytest.approx(10.0)


def test_sensor_noise_has_the_configured_spread():
    c = core(position_noise_std=0.01, velocity_noise_std=0.1)   # physics paused: no motion
    true = c.env.observe()
    samples = []
    for _ in range(2000):
        samples.append(joint(c))
        step(c)
    pos = np.array([s.position for s in samples])
    vel = np.array([s.velocity for s in samples])
    assert np.std(pos[:, 0]) == pytest.approx(0.01, rel=0.1)
    assert np.std(vel[:, 1]) == pytest.approx(0.1, rel=0.1)
    assert np.mean(pos[:, 1]) == pytest.approx(true[2], abs=0.002)


def test_latency_delays_each_sample_by_whole_publish_periods():
    c = core(sensor_latency_s=0.1, wait_for_controller=False)
    published = []
    for _ in range(20):
        s = joint(c)
        if s is not None:
            published.append((c.clock_ns, s.stamp_ns))
        step(c)
    assert len(published) == 15                   # nothing for the first 100 ms
    assert all(now - stamp == int(0.1 * NS) for now, stamp in published)


def test_drops_follow_the_probability_and_are_counted():
    c = core(drop_probability=0.3)
    got = sum(joint(c) is not None for _ in range(2000) if step(c) or True)
    assert got == c.counts['sensor_messages_published']
    assert c.counts['sensor_messages_dropped'] + got == 2000
    assert got / 2000 == pytest.approx(0.7, abs=0.04)


def test_same_seed_same_run_and_reset_keeps_the_clock_running():
    a, b = core(seed=3, position_noise_std=0.01), core(seed=3, position_noise_std=0.01)
    assert joint(a).position == joint(b).position
    step(a, 5)
    clock = a.clock_ns
    a.reset()
    assert a.clock_ns == clock and a.episode == 1 and a.episode_start_ns == clock
    assert not np.array_equal(a.env.observe(), core(seed=3).env.observe())


def test_reset_can_restart_the_clock():
    c = core(wait_for_controller=False)
    step(c, 5)
    c.reset(restart_clock=True)
    assert c.clock_ns == 0 and c.episode_start_ns == 0 and c.episode == 1


def test_physics_changes_change_the_dynamics():
    assert set(get_task('cartpole').physics_defaults) >= {'pole_mass_scale', 'pole_length_scale'}
    periods = []
    for scale in (1.0, 2.0):
        c = core(wait_for_controller=False, physics={'pole_length_scale': scale})
        c.env.data.qpos[:] = (0.0, math.pi - 0.1)     # a small swing about hanging
        c.env.data.qvel[:] = 0.0
        angles = []
        for _ in range(200):
            angles.append(c.env.observe()[2])
            step(c)
        crossings = np.flatnonzero(np.diff(np.sign(np.array(angles) - math.pi)))
        periods.append(2 * np.mean(np.diff(crossings)) * 0.02)
    # A pendulum's period grows with the square root of its length.
    assert periods[1] / periods[0] == pytest.approx(math.sqrt(2.0), rel=0.1)
    with pytest.raises(ValueError):
        core(physics={'no_such_thing': 2.0})


def test_diffdrive_publishes_odometry_wheels_and_the_path():
    c = core(task='diffdrive', wait_for_controller=False, output_periods={'plan_period_s': 0.1})
    first = c.sample()
    assert [o.topic for o, _ in first] == ['odom', 'joint_states', 'plan']
    assert [type(s) for _, s in first] == [OdomSample, JointSample, PathSample]
    # The free joint of the base is odometry; the hinges are the joint states.
    assert first[1][1].names == ('left_wheel_joint', 'right_wheel_joint')
    np.testing.assert_array_equal(first[2][1].xy, c.env.path())
    c.command([0.5, 0.0])
    step(c, 4)
    assert not samples(c, PathSample)                             # 80 ms < 100 ms
    step(c)
    assert samples(c, PathSample)
    odom = samples(c, OdomSample)[0]
    assert odom.v > 0.1
    x, y, yaw = c.env.pose()
    assert (odom.x, odom.y, odom.yaw) == pytest.approx((x, y, yaw))


def test_a_plan_period_of_zero_publishes_the_path_only_when_an_episode_starts():
    # So that a /plan from the user's own planner is not overridden by the simulator's.
    c = core(task='diffdrive', wait_for_controller=False, output_periods={'plan_period_s': 0.0})
    assert samples(c, PathSample)
    for _ in range(3):
        step(c, 100)
        assert not samples(c, PathSample)
    c.reset()
    (path,) = samples(c, PathSample)
    assert path.key == 1                                          # the new episode's path
    step(c)
    assert not samples(c, PathSample)
    # A changed period applies at once, not after the next publication.
    c.config.output_periods['plan_period_s'] = 0.02
    step(c)
    assert samples(c, PathSample)


def test_metrics_are_logged_as_plain_values():
    from liquid_control.sim.messages import metrics_text
    c = core(task='diffdrive', wait_for_controller=False)
    step(c, 5)
    text = metrics_text(c.metrics())
    assert 'np.' not in text and 'stopped_at_goal=false' in text and 'goal_time=nan' in text
    assert f"goal_distance={c.metrics()['goal_distance']:.6g}," in text


def test_an_mjcf_file_without_a_task_publishes_every_joint_and_takes_its_actuators():
    arm = ROBOTS / 'arm.xml'
    c = core(model_file=str(arm), wait_for_controller=False)
    assert c.name == 'arm' and c.action_names == ('shoulder_motor', 'elbow_motor')
    s = joint(c)
    assert s.names == ('shoulder', 'elbow', 'wrist')
    assert s.position == [0.0, 0.0, 0.0] and s.effort == [0.0, 0.0, 0.0]
    # One value per actuator, clipped to its ctrlrange where it has one.
    assert not c.command([1.0]) and 'takes 2 command value(s)' in c.last_rejection
    assert c.command([50.0, 1.5]) and c.counts['commands_clipped'] == 1
    assert c.applied_command().tolist() == [5.0, 1.5]
    step(c, 5)
    s = joint(c)
    # Efforts as applied at the joints (the elbow's motor has a gear of 2); gravity and the
    # motors move the arm.
    assert s.effort[:2] == pytest.approx([5.0, 3.0]) and s.effort[2] == 0.0
    assert s.position[0] != 0.0 and s.velocity[0] != 0.0
    assert c.metrics() == {'time': pytest.approx(c.episode_time)}
    with pytest.raises(ValueError, match='physics changes need a task'):
        core(model_file=str(arm), physics={'mass_scale': 2.0})


def test_config_validation():
    cartpole = get_task('cartpole')
    for bad in (dict(publish_rate_hz=0), dict(drop_probability=1.0),
                dict(sensor_latency_s=-1), dict(output_periods={'plan_period_s': -1.0})):
        with pytest.raises(ValueError):
            SimConfig(task=cartpole, **bad).validate()
    with pytest.raises(ValueError, match='neither of task and model_file'):
        SimConfig().validate()
    with pytest.raises(ValueError, match='both of task and model_file'):
        SimConfig(task=cartpole, model_file='arm.xml').validate()
    with pytest.raises(ValueError, match='MJCF file /no/arm.xml does not exist'):
        SimCore(SimConfig(model_file='/no/arm.xml'))


def test_sim_node_names_what_to_simulate_or_lists_the_installed_tasks():
    pytest.importorskip('rclpy')
    from liquid_control.nodes.sim_node import simulated_task
    assert simulated_task('diffdrive', '') is get_task('diffdrive')
    assert simulated_task('', 'arm.xml') is None
    installed = ', '.join(task_names())
    assert 'cartpole, cartpole_positions' in installed          # sorted, comma-separated
    with pytest.raises(ValueError, match=f"unknown task 'nope'; installed tasks: {installed}"):
        simulated_task('nope', '')
    for both_or_neither in (('cartpole', 'arm.xml'), ('', '')):
        with pytest.raises(ValueError, match=f'installed: {installed}'):
            simulated_task(*both_or_neither)


def _applied_over(c, ticks, command):
    c.command([command])
    out = []
    for _ in range(ticks):
        step(c)
        c.command([command])          # a controller answering every tick
        out.append(c.applied_command()[0])
    return np.array(out)


def test_actuator_disturbance_is_a_correlated_load_within_the_limits():
    half = 30.0                      # cart-pole force limit: half range of [-30, 30]
    quiet = _applied_over(core(), 200, 5.0)
    assert (quiet == 5.0).all()      # off by default: the command is what is applied
    c = core(seed=4, actuator_noise_std=0.1, actuator_noise_tau_s=0.5)
    pushed = _applied_over(c, 3000, 5.0)
    assert (c.held == 5.0).all()     # the command itself (what a recording keeps) is untouched
    load = (pushed - 5.0) / half
    assert abs(load.std() - 0.1) < 0.02 and abs(load.mean()) < 0.03
    lag1 = np.corrcoef(load[:-1], load[1:])[0, 1]
    assert abs(lag1 - math.exp(-0.02 / 0.5)) < 0.03     # one 20 ms period at tau 0.5 s
    white = (_applied_over(core(seed=4, actuator_noise_std=0.1, actuator_noise_tau_s=0.0),
                           3000, 5.0) - 5.0) / half
    assert abs(np.corrcoef(white[:-1], white[1:])[0, 1]) < 0.1
    near_limit = _applied_over(core(seed=5, actuator_noise_std=0.5), 500, 29.0)
    assert near_limit.max() <= 30.0 and near_limit.min() >= -30.0
    again = _applied_over(core(seed=4, actuator_noise_std=0.1, actuator_noise_tau_s=0.5),
                          3000, 5.0)
    np.testing.assert_array_equal(again, pushed)         # reproducible by seed


def test_sample_timing_periodic_jitter_and_poisson():
    c = core()
    assert [c.next_period_ns() for _ in range(3)] == [c.period_ns] * 3
    physics = c.physics_dt_ns

    def intervals(**kw):
        sim = core(seed=7, **kw)
        return np.array([sim.next_period_ns() for _ in range(4000)])
    jitter = intervals(sample_timing='jitter', sample_jitter=0.5)
    assert np.all(jitter % physics == 0) and jitter.min() >= physics
    assert jitter.min() >= 0.5 * c.period_ns - physics
    assert jitter.max() <= 1.5 * c.period_ns + physics
    assert jitter.mean() == pytest.approx(c.period_ns, rel=0.02)
    assert len(set(jitter.tolist())) > 10
    poisson = intervals(sample_timing='poisson')
    assert np.all(poisson % physics == 0) and poisson.min() >= physics
    assert poisson.mean() == pytest.approx(c.period_ns, rel=0.06)
    # Exponential: the spread is the mean, and a long gap (a dropout-like wait) happens.
    assert poisson.std() == pytest.approx(c.period_ns, rel=0.1)
    assert poisson.max() > 4 * c.period_ns
    # The same seed gives the same sampling times (a lockstep run is reproducible).
    np.testing.assert_array_equal(poisson, intervals(sample_timing='poisson'))


def test_sample_timing_settings_are_checked():
    with pytest.raises(ValueError, match="sample_timing must be one of periodic, jitter, "
                                         "poisson; got 'random'"):
        core(sample_timing='random')
    with pytest.raises(ValueError, match=r'sample_jitter must be in \[0, 1\)'):
        core(sample_timing='jitter', sample_jitter=1.0)
