"""Loop timing: the wall-clock control loop thread and the statistics of its ticks.

Why a thread of its own: in one Python process the executor (subscriptions, services) and a
timer callback share the GIL, and a timer tick waits for whatever callback holds it. Measured
here at 1 kHz, a plain rclpy timer has a p99 period error of ~250 us with a 1 kHz
subscription in the same executor and ~700 us under load. `WallClockLoop` runs on its own
thread: it sleeps until `busy_wait_s` before each deadline (long enough for the GIL hand-off
to complete), then spins on the monotonic clock to the deadline, so the tick starts on time.
Deadlines are absolute (t0 + k * period): errors do not accumulate. A tick that starts more
than half a period late skips the deadlines it missed (counted) rather than bursting to
catch up.

How late the thread wakes from its sleep depends on the machine: tens of microseconds on an
idle robot computer, a millisecond or more on a loaded one or in a VM whose idle vCPU the host
deschedules; and taking the sensor messages (`prepare`) occasionally takes hundreds of
microseconds under load. With `adaptive`, the loop measures the two together (the lead) and
sets the margin to 1.25 times a running estimate of their 99th percentile, up to half a
period: the tick starts on time after 99 wake-ups in 100 without spinning for the rare
millisecond stall (which a margin sized to the worst case pays for at every tick).

Before spinning, the loop calls `prepare()` (the node takes queued sensor messages there, so
the work after the deadline is short). With `priority` > 0 the thread asks for SCHED_FIFO
at that priority, as ros2_control's controller manager does; where that is not permitted it
runs with normal scheduling and says so in `scheduling`.

`period_errors` is the one definition of period error and missed ticks used by diagnostics,
the timing probe and tests, for this loop and for plain timers alike.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np

monotonic_ns = time.monotonic_ns

# GIL switch interval of a process running the loop (Python's default is 5 ms): another
# thread that holds the GIL (a model loading for a swap, a service call) gives it up to the
# loop thread within this time, well inside the busy-wait margin, instead of after up to 5 ms.
SWITCH_INTERVAL_S = 0.0002


def period_errors(stamps_ns, period_ns):
    """Tick start times -> (abs period errors ns, missed ticks).

    Each interval d between consecutive ticks covers k = max(1, round(d / period)) periods;
    k - 1 ticks were missed and the error is |d - k * period|.
    """
    stamps = np.asarray(stamps_ns, dtype=np.int64)
    if stamps.size < 2:
        return np.zeros(0), 0
    d = np.diff(stamps).astype(np.float64)
    k = np.maximum(1, np.rint(d / period_ns))
    return np.abs(d - k * period_ns), int((k - 1).sum())


# What a tick is made of, in order, as the node reports it (TickStats.record's `parts`):
# taking the queued sensor messages, gathering the observation with the watchdog and the
# action sink (everything of ControlCore.tick but the model), the model step in the runtime,
# building and publishing the command.
TICK_PARTS = ('take', 'gather_sink', 'model_step', 'publish')


def summarize(stamps_ns, period_ns, tick_ns=None, parts_ns=None):
    """Percentiles (microseconds) of one window of ticks, as a dict: period errors, the
    whole tick's duration (`tick_time_*`) and, given `parts_ns` (one tuple per tick in the
    order of TICK_PARTS), the median of each part (`tick_<part>_p50_us`)."""
    errors, missed = period_errors(stamps_ns, period_ns)
    out = {'ticks': int(len(stamps_ns)), 'missed': missed}
    if errors.size:
        p50, p99 = np.percentile(errors, [50, 99])
        out.update(period_error_p50_us=p50 / 1e3, period_error_p99_us=p99 / 1e3,
                   period_error_max_us=errors.max() / 1e3)
    if tick_ns is not None and len(tick_ns):
        s = np.asarray(tick_ns, dtype=np.float64)
        p50, p99 = np.percentile(s, [50, 99])
        out.update(tick_time_p50_us=p50 / 1e3, tick_time_p99_us=p99 / 1e3,
                   tick_time_max_us=s.max() / 1e3)
    if parts_ns:
        medians = np.median(np.asarray(parts_ns, dtype=np.float64), axis=0) / 1e3
        out.update({f'tick_{name}_p50_us': float(m) for name, m in zip(TICK_PARTS, medians)})
    return out


# The lead estimate's step (ns): up LEAD_STEP_NS * 0.99 when a wake-up needed more than the
# estimate, down LEAD_STEP_NS * 0.01 otherwise, so it settles where 1 in 100 needs more. A
# loaded machine raises it within tens of ticks; it decays by 1 ms in 2000 quiet ticks.
LEAD_QUANTILE = 0.99
LEAD_STEP_NS = 50_000.0


def quantile_step(estimate, sample, q=LEAD_QUANTILE, step=LEAD_STEP_NS):
    """One step of a running quantile estimate (stochastic approximation): no history, no
    allocation, O(1) per tick."""
    if sample > estimate:
        return estimate + step * q
    return max(0.0, estimate - step * (1.0 - q))


class TickStats:
    """Tick start times and durations (and their parts), drained once per diagnostics window.

    `record` is called by the loop (one short lock); `drain` by the diagnostics timer.
    The last stamp of a window is kept as the first of the next, so no interval is lost.
    """

    def __init__(self, keep_history=False):
        self._lock = threading.Lock()
        self._stamps = []
        self._ticks = []
        self._parts = []
        self._carry = None
        self.total_ticks = 0
        self.total_missed = 0
        # Every (stamp, tick, parts) since start, for measurements (loop_timing_probe); off in
        # a node.
        self.history = [] if keep_history else None

    def record(self, stamp_ns, tick_ns, parts_ns=None):
        """One tick: when it started, how long it took, and (from the node) its parts."""
        with self._lock:
            self._stamps.append(stamp_ns)
            self._ticks.append(tick_ns)
            if parts_ns is not None:
                self._parts.append(parts_ns)
            if self.history is not None:
                self.history.append((stamp_ns, tick_ns, parts_ns))

    def add_missed(self, n):
        with self._lock:
            self.total_missed += n

    def drain(self, period_ns):
        """Summary of the ticks since the previous drain (see `summarize`)."""
        with self._lock:
            stamps, self._stamps = self._stamps, []
            ticks, self._ticks = self._ticks, []
            parts, self._parts = self._parts, []
        first = [self._carry] if self._carry is not None and stamps else []
        if stamps:
            self._carry = stamps[-1]
        self.total_ticks += len(stamps)
        window = summarize(first + stamps, period_ns, ticks, parts)
        window['ticks'] = len(stamps)
        return window

    def restart(self):
        """Forget the carried stamp (the loop stopped; the next interval is not a period)."""
        with self._lock:
            self._stamps, self._ticks, self._parts = [], [], []
        self._carry = None


class WallClockLoop:
    """Calls tick(now_ns, dt_s) every period on a dedicated thread (see module docstring).

    `tick` must not block; its exceptions are passed to `on_error` and the loop goes on. What
    it returns (the durations of its parts, or None) is recorded with the tick.
    `period_s` and `busy_wait_s` may be changed while it runs (next deadline on).
    """

    def __init__(self, tick, period_s, busy_wait_s=0.0005, stats=None, on_error=None,
                 name='control_loop', prepare=None, priority=0, adaptive=False):
        self._tick = tick
        self.adaptive = adaptive
        self.spin_ns = 0         # the busy-wait margin in use
        self._prepare = prepare
        self.priority = priority
        self.scheduling = 'not started'
        self._started = threading.Event()
        self.period_s = period_s
        self.busy_wait_s = busy_wait_s
        self.stats = stats if stats is not None else TickStats()
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = None
        self._name = name
        self.missed = 0          # deadlines skipped by this loop since start

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def start(self):
        if self.running:
            return
        self._stop.clear()
        self._started.clear()
        self.stats.restart()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        self._started.wait(1.0)      # scheduling is known once start() returns

    def stop(self, timeout=2.0):
        """Stop and join: when this returns, no tick is running or will run."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _margin(self, period, lead):
        """Busy-wait before a deadline: busy_wait_s, or (when adaptive) 1.25 times the
        estimated 99th percentile of the lead (wake-up lateness + prepare); never above half
        a period."""
        spin = int(1.25 * lead) if self.adaptive else int(self.busy_wait_s * 1e9)
        return min(spin, period // 2)

    def _set_scheduling(self):
        if self.priority <= 0:
            self.scheduling = 'normal'
            return
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(int(self.priority)))
            self.scheduling = f'SCHED_FIFO {int(self.priority)}'
        except (OSError, AttributeError) as exc:
            self.scheduling = f'normal (SCHED_FIFO {int(self.priority)} not permitted: ' \
                              f'{getattr(exc, "strerror", exc)})'

    def _run(self):
        self._set_scheduling()
        self._started.set()
        prepare = self._prepare
        stop = self._stop
        clock = monotonic_ns
        period = int(self.period_s * 1e9)
        deadline = clock() + period
        previous = None
        # Estimated 99th percentile of the time from the planned wake-up to ready to spin
        # (ns), starting from the configured margin.
        lead = self.busy_wait_s * 1e9 / 1.25
        while not stop.is_set():
            period = int(self.period_s * 1e9)
            spin = self._margin(period, lead)
            self.spin_ns = spin
            now = clock()
            wake_at = deadline - spin
            slept = wake_at > now
            if slept and stop.wait((wake_at - now) / 1e9):
                break
            if prepare is not None:
                try:
                    prepare()
                except Exception as exc:
                    if self._on_error is not None:
                        self._on_error(exc)
            if slept:
                # How late the wake-up was plus what prepare() took: the margin must cover
                # both for the tick to start on time.
                lead = quantile_step(lead, float(clock() - wake_at))
            while clock() < deadline:
                pass
            now = clock()
            late = now - deadline
            if late > period // 2:
                # Too late for this deadline: skip to the nearest one still ahead, counted.
                skipped = (late + period // 2) // period
                self.missed += skipped
                self.stats.add_missed(skipped)
                deadline += skipped * period
                if deadline > now:
                    continue
            dt = (now - previous) / 1e9 if previous is not None else period / 1e9
            previous = now
            parts = None
            try:
                parts = self._tick(now, dt)
            except Exception as exc:  # keep the loop alive; the node reports it
                if self._on_error is not None:
                    self._on_error(exc)
            self.stats.record(now, clock() - now, parts)
            deadline += period
