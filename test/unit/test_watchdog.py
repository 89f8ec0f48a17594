"""The sensor watchdog: tripped until data comes, the edges it reports, how many trips it
counted, and the reason it gives for each stale source, word for word."""
from types import SimpleNamespace

from liquid_control.control.watchdog import RECOVERED, TRIPPED, Watchdog


def source(name, latest=None, topic='', waiting_for=''):
    return SimpleNamespace(name=name, latest=latest, topic=topic, waiting_for=waiting_for)


NEVER = source('imu', waiting_for='no message yet on /imu')
TIMED_OUT = source('js', latest=((0.0,), 1), topic='/joint_states')


def state(w):
    return w.tripped, w.trips, w.stale, w.reason


def test_it_starts_tripped_and_recovers_when_every_source_is_fresh():
    w = Watchdog()
    assert state(w) == (True, 0, (), 'no sensor data yet')
    assert w.update([NEVER]) is None            # already tripped: no edge, no trip counted
    assert state(w) == (True, 0, ('imu',), 'no message yet on /imu')
    assert w.update([]) == RECOVERED
    assert state(w) == (False, 0, (), '')
    assert w.update([]) is None


def test_each_trip_is_one_edge_and_the_reason_names_every_stale_source():
    w = Watchdog()
    w.update([])
    assert w.update([TIMED_OUT, NEVER]) == TRIPPED
    assert state(w) == (True, 1, ('js', 'imu'),
                        '/joint_states timed out; no message yet on /imu')
    assert w.update([TIMED_OUT]) is None
    assert state(w) == (True, 1, ('js',), '/joint_states timed out')
    assert w.update([]) == RECOVERED
    assert w.update([NEVER]) == TRIPPED
    assert w.trips == 2


def test_reset_goes_back_to_no_data_yet_and_keeps_the_trip_count():
    w = Watchdog()
    w.update([])
    w.update([TIMED_OUT])
    w.reset()
    assert state(w) == (True, 1, (), 'no sensor data yet')
    assert w.update([]) == RECOVERED
