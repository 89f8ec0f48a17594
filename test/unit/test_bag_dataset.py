"""Recorded bags -> training sequences through the node's observation code: what is paired
with what, the time bases, and one clear error (naming the bag) for every bad input."""
from pathlib import Path

import numpy as np
import pytest

from liquid_control.control.params import ConfigError
from liquid_control.training.bag_dataset import (BagError, read_mapping, read_recording,
                                                 storage_files)

from bag_factory import (CLOCK, COMMANDS, JOINT_STATES, feedback, run_messages, write_bag)

CONFIG = Path(__file__).resolve().parents[2] / 'config' / 'cartpole.yaml'


@pytest.fixture(scope='module')
def mapping():
    return read_mapping(CONFIG)


def _expected(messages):
    """(obs rows, command rows, times s) of the ticks of a factory run."""
    obs, cmds, times = [], [], []
    for topic, _, ns, msg in messages:
        if topic == JOINT_STATES:
            obs.append([msg.position[0], msg.velocity[0], msg.position[1], msg.velocity[1]])
        elif topic == COMMANDS:
            cmds.append(list(msg.data))
            times.append(ns / 1e9)
    return np.array(obs), np.array(cmds), np.array(times)


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_each_command_is_paired_with_the_observation_before_it(tmp_path, mapping, storage):
    messages = run_messages(3)
    record = read_recording(write_bag(tmp_path / 'bag', messages, storage), mapping)
    obs, cmds, times = _expected(messages)
    assert record.time_base == 'receive' and record.commands == len(cmds) == record.used
    assert len(record.sequences) == 1 and not record.skipped and not record.rejected
    seq = record.sequences[0]
    np.testing.assert_allclose(seq.obs, obs, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(seq.action, cmds, rtol=1e-6)
    # dt is the measured (jittered) time between commands; the first is the node's period.
    np.testing.assert_allclose(seq.dt[1:, 0], np.diff(times), rtol=1e-5)
    assert seq.dt[0, 0] == pytest.approx(1 / 50.0)
    assert np.ptp(seq.dt[1:, 0]) > 0.005          # irregular sampling kept, not resampled
    assert list(record.files) == [storage_files(tmp_path / 'bag')[0].name]


def test_time_comes_from_clock_when_the_bag_has_it(tmp_path, mapping):
    messages = run_messages(4, clock=True)
    # Receive times that say nothing of sim time (a lockstep run faster than real time).
    squeezed = [(t, k, 10**9 + i * 1000, m) for i, (t, k, _, m) in enumerate(messages)]
    record = read_recording(write_bag(tmp_path / 'bag', squeezed), mapping)
    _, _, times = _expected(messages)
    assert record.time_base == 'clock'
    np.testing.assert_allclose(record.sequences[0].dt[1:, 0], np.diff(times), atol=2e-9)
    received = read_recording(tmp_path / 'bag', mapping, time_base='receive')
    assert received.sequences[0].dt[1:, 0] == pytest.approx(2e-6 * 1.5, rel=0.5)


def test_of_two_commands_at_one_clock_time_the_later_is_kept(tmp_path, mapping):
    messages = run_messages(5, clock=True, seconds=1.0)
    # The recorder stored command k after clock k+1 (tick 10): both then carry time k+1.
    i = [j for j, m in enumerate(messages) if m[0] == COMMANDS][10]
    topic, kind, _, msg = messages.pop(i)
    assert messages[i][0] == CLOCK
    messages.insert(i + 1, (topic, kind, messages[i][2] + 1, msg))
    record = read_recording(write_bag(tmp_path / 'bag', messages), mapping)
    _, cmds, _ = _expected(run_messages(5, clock=True, seconds=1.0))
    assert record.skipped == {'earlier of two commands at the same time': 1}
    got = record.sequences[0].action[:, 0]
    np.testing.assert_allclose(got, np.delete(cmds[:, 0], 10), rtol=1e-6)


def test_a_pause_in_the_commands_starts_a_new_sequence(tmp_path, mapping):
    messages = run_messages(6, seconds=2.0)
    late = [(t, k, ns + (10**9 if ns > 1.9e9 else 0), m) for t, k, ns, m in messages]
    record = read_recording(write_bag(tmp_path / 'bag', late), mapping)
    assert len(record.sequences) == 2
    assert sum(map(len, record.sequences)) == record.commands
    assert record.sequences[1].dt[0, 0] == pytest.approx(0.02)


def test_non_finite_observations_are_counted_and_never_reach_the_data(tmp_path, mapping):
    bad = {5, 17, 40}
    messages = run_messages(7, corrupt=lambda i, p: p * np.nan if i in bad else p)
    record = read_recording(write_bag(tmp_path / 'bag', messages), mapping)
    count, why = record.rejected[JOINT_STATES]
    assert count == len(bad) and 'non-finite' in why
    seq = np.concatenate([s.obs for s in record.sequences])
    assert np.isfinite(seq).all()
    # As in the node, a command after a rejected message pairs with the last good one.
    obs, _, _ = _expected(messages)
    np.testing.assert_allclose(record.sequences[0].obs[5], obs[4], rtol=1e-6)


def test_non_finite_commands_are_skipped_and_counted(tmp_path, mapping):
    messages = run_messages(8)
    n = 0
    for topic, _, _, msg in messages:
        if topic == COMMANDS and n < 3:
            msg.data[0] = np.inf
            n += 1
    record = read_recording(write_bag(tmp_path / 'bag', messages), mapping)
    assert record.skipped == {'non-finite command': 3}
    assert record.used == record.commands - 3
    assert np.isfinite(record.sequences[0].action).all()


def test_commands_outside_the_limits_are_clipped_and_counted(tmp_path, mapping):
    messages = run_messages(9)
    changed = 0
    for topic, _, _, msg in messages[:30]:
        if topic == COMMANDS:
            msg.data[0] = 99.0
            changed += 1
    record = read_recording(write_bag(tmp_path / 'bag', messages), mapping)
    assert changed == 15 and record.clipped == changed
    assert record.sequences[0].action.max() == 30.0 and record.used == record.commands


def test_a_bag_without_a_configured_topic_lists_what_it_has(tmp_path, mapping):
    messages = [m for m in run_messages(1) if m[0] != JOINT_STATES]
    with pytest.raises(BagError) as err:
        read_recording(write_bag(tmp_path / 'bag', messages), mapping)
    text = str(err.value)
    assert 'no topic /joint_states' in text and 'observations.joint_states.topic' in text
    assert f'{COMMANDS} (std_msgs/msg/Float64MultiArray)' in text
    assert str(tmp_path / 'bag') in text and '\n' not in text


def test_joint_names_that_do_not_match_the_mapping(tmp_path, mapping):
    bag = write_bag(tmp_path / 'bag', run_messages(1, joint_names=('cart', 'pole')))
    with pytest.raises(BagError, match=r'got no usable message from /joint_states: joint\(s\) '
                       r'slider_to_cart, cart_to_pole missing \(message has cart, pole\)'):
        read_recording(bag, mapping)


def test_a_command_topic_of_another_type(tmp_path, mapping):
    bag = write_bag(tmp_path / 'bag', run_messages(1, command_type='geometry_msgs/msg/Twist'))
    with pytest.raises(BagError, match=f'{COMMANDS} is geometry_msgs/msg/Twist in the bag, '
                       '.*cartpole.yaml says std_msgs/msg/Float64MultiArray'):
        read_recording(bag, mapping)


def test_a_command_with_the_wrong_number_of_values(tmp_path, mapping):
    messages = run_messages(1)
    for topic, _, _, msg in messages:
        if topic == COMMANDS:
            msg.data = np.array([1.0, 2.0])
    with pytest.raises(BagError, match=r'none of its \d+ commands .* unreadable command \(2 '
                       r'value\(s\) in data, 1 action\(s\) configured\)'):
        read_recording(write_bag(tmp_path / 'bag', messages), mapping)


def test_a_truncated_bag(tmp_path, mapping):
    bag = write_bag(tmp_path / 'bag', run_messages(2))
    data = storage_files(bag)[0]
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    with pytest.raises(BagError, match='truncated'):
        read_recording(bag, mapping)


def test_a_corrupt_bag(tmp_path, mapping):
    bag = write_bag(tmp_path / 'bag', run_messages(2))
    data = storage_files(bag)[0]
    raw = bytearray(data.read_bytes())
    raw[200:2000] = bytes(1800)
    data.write_bytes(bytes(raw))
    with pytest.raises(BagError, match=f'{tmp_path / "bag"}: (cannot read|read )'):
        read_recording(bag, mapping)


def test_a_folder_that_is_not_a_finished_bag(tmp_path, mapping):
    (tmp_path / 'half').mkdir()
    with pytest.raises(BagError, match='no metadata.yaml.*ros2 bag reindex'):
        read_recording(tmp_path / 'half', mapping)
    with pytest.raises(BagError, match='no such bag'):
        read_recording(tmp_path / 'nothing', mapping)


def test_a_config_without_action_limits(tmp_path):
    text = CONFIG.read_text().replace('      min: [-30.0]', '').replace('      max: [30.0]', '')
    (tmp_path / 'robot.yaml').write_text(text)
    with pytest.raises(ConfigError, match='action.min is not set'):
        read_mapping(tmp_path / 'robot.yaml')


def test_the_factory_commands_follow_its_feedback_law():
    # Guards the training test's premise: the recorded command is a function of the
    # observation it is paired with.
    obs, cmds, _ = _expected(run_messages(0))
    np.testing.assert_allclose(cmds[:, 0], [feedback(o[[0, 1, 2, 3]]) for o in obs], atol=1e-9)
