"""Loop timing: the one definition of period error and missed ticks, the tick statistics, and
the wall-clock loop thread's behaviour (schedule, skipped deadlines, stop, errors). These check
behaviour, not how tight the timing is on this machine (the probe measures that)."""
import threading
import time

import numpy as np
import pytest

from liquid_control.control.loop import (TICK_PARTS, TickStats, WallClockLoop, period_errors,
                                         summarize)

MS = 1_000_000


def test_period_errors_and_missed_ticks():
    stamps = [0, 10 * MS, 20 * MS + 50_000, 50 * MS, 60 * MS]
    errors, missed = period_errors(stamps, 10 * MS)
    np.testing.assert_array_equal(errors, [0, 50_000, 50_000, 0])
    assert missed == 2                       # the 30 ms interval covers 3 periods
    assert period_errors([5], 10 * MS)[1] == 0


def test_summary_in_microseconds():
    s = summarize([0, 1 * MS, 2 * MS + 100_000], 1 * MS, tick_ns=[20_000, 30_000])
    assert s['ticks'] == 3 and s['missed'] == 0
    assert s['period_error_max_us'] == pytest.approx(100.0)
    assert s['tick_time_p50_us'] == pytest.approx(25.0)


def test_the_tick_parts_are_reported_as_medians_per_part():
    stats = TickStats()
    for k, parts in enumerate(((1_000, 2_000, 20_000, 3_000), (5_000, 4_000, 0, 9_000),
                               (3_000, 6_000, 40_000, 1_000))):
        stats.record(k * MS, sum(parts), parts)
    window = stats.drain(1 * MS)
    assert [window[f'tick_{part}_p50_us'] for part in TICK_PARTS] == [3.0, 4.0, 20.0, 3.0]
    assert window['tick_time_p50_us'] == pytest.approx(26.0)
    # A tick that does not report parts (a plain tick function) leaves them out.
    stats.record(3 * MS, 1_000)
    assert not any(key.startswith('tick_take') for key in stats.drain(1 * MS))


def test_the_loop_records_what_the_tick_returns():
    stats = TickStats(keep_history=True)
    done = threading.Event()
    calls = []

    def tick(now_ns, dt):
        calls.append(now_ns)
        if len(calls) >= 3:
            done.set()
        return (1, 2, 3, 4)

    loop = WallClockLoop(tick, 0.002, busy_wait_s=0.0, stats=stats)
    loop.start()
    assert done.wait(10)
    loop.stop()
    window = stats.drain(2 * MS)
    assert [window[f'tick_{part}_p50_us'] for part in TICK_PARTS] == [0.001, 0.002, 0.003,
                                                                         0.004]


def test_tick_stats_carry_the_last_stamp_across_windows():
    stats = TickStats()
    for t in (0, 10, 20):
        stats.record(t * MS, 1000)
    assert stats.drain(10 * MS)['ticks'] == 3
    stats.record(40 * MS, 1000)            # one tick missed between the windows
    window = stats.drain(10 * MS)
    assert window['ticks'] == 1 and window['missed'] == 1
    assert stats.total_ticks == 4


class Recorder:
    def __init__(self, stop_after=None, stall_at=None, stall_s=0.0, fail_at=None):
        self.calls = []
        self.done = threading.Event()
        self.stop_after, self.stall_at, self.stall_s, self.fail_at = (
            stop_after, stall_at, stall_s, fail_at)

    def __call__(self, now_ns, dt):
        self.calls.append((now_ns, dt))
        n = len(self.calls)
        if n == self.stall_at:
            time.sleep(self.stall_s)             # a tick that overruns (simulated work)
        if n == self.fail_at:
            raise RuntimeError('boom')
        if self.stop_after and n >= self.stop_after:
            self.done.set()


def run_loop(recorder, period_s=0.005, busy_wait_s=0.0005, **kwargs):
    errors = []
    loop = WallClockLoop(recorder, period_s, busy_wait_s, on_error=errors.append, **kwargs)
    loop.start()
    assert recorder.done.wait(10), 'the loop did not tick'
    loop.stop()
    return loop, errors


class Working(Recorder):
    """A tick that takes 1 ms (simulated work)."""

    def __call__(self, now_ns, dt):
        super().__call__(now_ns, dt)
        time.sleep(0.001)


def test_ticks_follow_an_absolute_schedule_with_measured_dt():
    rec = Working(stop_after=60)
    loop, errors = run_loop(rec)
    stamps = np.array([c[0] for c in rec.calls])
    dts = np.array([c[1] for c in rec.calls])
    assert not errors and not loop.running
    assert dts[0] == pytest.approx(0.005)                    # first tick: the nominal period
    np.testing.assert_allclose(dts[1:], np.diff(stamps) / 1e9)
    # Deadlines are absolute (t0 + k * period): a tick's own duration does not push the next
    # one later, so over the intervals that missed no deadline the mean is the period itself
    # (a loop sleeping one period after each tick would average 6 ms here).
    intervals = np.diff(stamps) / 1e6
    single = intervals[np.rint(intervals / 5.0) == 1]
    assert len(single) > 20
    # Closer to the period than to period + tick duration (6 ms), whatever the load.
    assert abs(single.mean() - 5.0) < abs(single.mean() - 6.0)


def test_an_overrun_skips_the_deadlines_it_missed():
    rec = Recorder(stop_after=20, stall_at=5, stall_s=0.032)
    loop, _ = run_loop(rec, period_s=0.010)
    assert loop.missed >= 2
    assert loop.stats.total_missed == loop.missed
    gaps = np.diff([c[0] for c in rec.calls]) / 1e6
    assert gaps.max() >= 30                                  # no burst of catch-up ticks:
    assert (gaps[5:] > 4).all()                              # never two ticks back to back


def test_no_tick_runs_after_stop_and_errors_do_not_stop_the_loop():
    rec = Recorder(stop_after=10, fail_at=3)
    loop, errors = run_loop(rec)
    assert len(errors) == 1 and str(errors[0]) == 'boom'
    n = len(rec.calls)
    assert n >= 10
    time.sleep(0.02)                                          # a few periods after stop
    assert len(rec.calls) == n


def test_period_can_change_while_running():
    rec = Recorder()
    loop = WallClockLoop(rec, 0.002, 0.0002)
    loop.start()
    try:
        assert wait_until(lambda: len(rec.calls) >= 10)
        loop.period_s = 0.02
        n = len(rec.calls)
        assert wait_until(lambda: len(rec.calls) >= n + 8)
        tail = np.diff([c[0] for c in rec.calls[-6:]]) / 1e6
        assert np.median(tail) > 15      # 20 ms now (a late tick may shorten one interval)
    finally:
        loop.stop()


def wait_until(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.002)
    return True


def test_real_time_priority_is_used_where_permitted_and_reported_either_way():
    rec = Recorder(stop_after=3)
    loop = WallClockLoop(rec, 0.002, 0.0002, priority=10)
    loop.start()
    try:
        assert loop.scheduling == 'SCHED_FIFO 10' or loop.scheduling.startswith(
            'normal (SCHED_FIFO 10 not permitted')
        assert rec.done.wait(10)
    finally:
        loop.stop()
    assert WallClockLoop(rec, 0.01, priority=0).scheduling == 'not started'


def test_prepare_runs_before_each_tick():
    order = []
    rec = Recorder(stop_after=5)

    def tick(now, dt):
        order.append('tick')
        rec(now, dt)
    loop = WallClockLoop(tick, 0.004, 0.001, prepare=lambda: order.append('prepare'))
    loop.start()
    assert rec.done.wait(10)
    loop.stop()
    ticks = [i for i, what in enumerate(order) if what == 'tick']
    # Every tick follows a prepare (a deadline skipped after waking adds another prepare).
    assert all(order[i - 1] == 'prepare' for i in ticks)


def test_adaptive_margin_follows_the_lead_estimate_and_stays_under_half_a_period():
    loop = WallClockLoop(Recorder(), 0.010, 0.0005, adaptive=True)
    assert loop._margin(10 * MS, 0.0) == 0
    assert loop._margin(10 * MS, 0.2 * MS) == 250_000       # below busy_wait_s too
    assert loop._margin(10 * MS, 1.2 * MS) == 1_500_000
    assert loop._margin(10 * MS, 20 * MS) == 5 * MS
    loop.adaptive = False
    assert loop._margin(10 * MS, 1.2 * MS) == 500_000
    assert loop._margin(0.6 * MS, 0.0) == 300_000           # fixed: half a period at most


def test_lead_estimate_settles_at_the_99th_percentile():
    from liquid_control.control.loop import LEAD_STEP_NS, quantile_step
    # One step up by 0.99 of the step when a sample is above the estimate, down by 0.01 of
    # it otherwise, never below zero.
    assert quantile_step(1000.0, 2000.0) == 1000.0 + 0.99 * LEAD_STEP_NS
    assert quantile_step(LEAD_STEP_NS, 0.0) == LEAD_STEP_NS * 0.99
    assert quantile_step(10.0, 0.0) == 0.0
    rng = np.random.default_rng(3)
    samples = rng.exponential(200_000.0, 200_000)        # wake-up leads with a long tail
    estimate, late, estimates = 0.0, 0, []
    for i, x in enumerate(samples):
        if i >= 20_000:                  # settled: count the wake-ups the margin missed
            late += x > estimate
            estimates.append(estimate)
        estimate = quantile_step(estimate, x)
    assert late / (len(samples) - 20_000) == pytest.approx(0.01, abs=0.001)
    assert np.median(estimates) == pytest.approx(np.percentile(samples, 99), rel=0.1)


def test_adaptive_loop_starts_from_busy_wait():
    margins = []
    rec = Recorder(stop_after=1)
    loop = WallClockLoop(rec, 0.2, 0.0008, adaptive=True,
                         prepare=lambda: margins.append(loop.spin_ns))
    loop.start()
    assert rec.done.wait(30)
    loop.stop()
    # The first wake-up is planned with busy_wait_s; later ones follow the lead estimate
    # (quantile_step, tested above with seeded samples).
    assert margins[0] == 800_000
