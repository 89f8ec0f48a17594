"""Fuzzing the real controller node's inputs over DDS with hypothesis.

Each case is a short sequence of sensor messages drawn by hypothesis (NaN/inf, values beyond
float32, wrong array lengths, missing/extra/reordered/repeated joint names, empty messages,
header stamps out of order or repeated; for diff-drive odometry and paths: NaN poses, frame
mismatches, empty, single-point, coincident, huge and very long paths), published to the
node one at a time or as a burst far above the control rate. Then good data follows.

Checked for every case:
- no crash (see harness.NodeUnderTest.crashes);
- every command published is finite and within the limits (harness.CommandWatch);
- every message sent one at a time is handled as oracle.Oracle predicts: used (counted as
  received), or rejected and counted in the node's diagnostics;
- after the case, the node controls on the good data at once: the model is an echo of its
  observation (models.echo_model), so the command must carry the good message's value.
At the end, the rejection count the node publishes on /diagnostics must equal its counter.

`run_fuzz(cases, task)` runs it and returns the figures; the tests and the bench call it.
"""
from __future__ import annotations

import math
import tempfile
import time
from collections import Counter, deque
from pathlib import Path

import numpy as np

from . import oracle as orc
from .harness import NodeUnderTest, wait_until

MESSAGE_TIMEOUT_S = 5.0        # one message: published -> counted by the node
RESUME_TIMEOUT_S = 5.0         # good data -> a command computed from it
SPECIAL = (math.nan, math.inf, -math.inf, 1e308, -1e308, 3.4028235e38, 3.5e38, -3.5e38, 1e38,
           -1e30, 1e12, 5e-324, -0.0, 0.0, 1e-300)
EXTRA_JOINTS = ('wheel_left', '', 'Cart_To_Pole', 'cart_to_pole ', 'slider_to_cart/extra',
                'π-joint', 'x' * 256)


class FuzzFailure(AssertionError):
    """A case broke a property; the message says which and with what."""


# -- strategies ----------------------------------------------------------------------------------

def strategies():
    """(cartpole case strategy, diffdrive case strategy); hypothesis imported on demand."""
    from hypothesis import strategies as st

    moderate = st.floats(-10.0, 10.0, allow_nan=False)
    value = st.one_of(moderate, moderate, moderate, st.sampled_from(SPECIAL), st.floats())
    stamp = st.one_of(
        st.tuples(st.integers(-2 ** 31, 2 ** 31 - 1), st.integers(0, 2 ** 32 - 1)),
        st.sampled_from([(0, 0), (5, 0), (5, 0), (4, 999_999_999), (2 ** 31 - 1, 0)]))

    def array(n):
        exact = st.lists(value, min_size=n, max_size=n)
        return st.one_of(
            exact, exact, exact,
            st.integers(-2, 3).flatmap(
                lambda d: st.lists(value, min_size=max(0, n + d), max_size=max(0, n + d))),
            exact.map(lambda values: values + [0.5] * 2000))          # very long

    joints = list(orc.CARTPOLE_JOINTS)
    names = st.one_of(
        st.permutations(joints),
        st.permutations(joints),
        st.lists(st.sampled_from(EXTRA_JOINTS), max_size=4).flatmap(
            lambda extra: st.permutations(joints + extra)),
        st.lists(st.sampled_from(joints + list(EXTRA_JOINTS)), max_size=6),
        st.just([]))

    def joint_state(n):
        return st.fixed_dictionaries({
            'names': st.just(list(n)), 'position': array(len(n)), 'velocity': array(len(n)),
            'effort': st.one_of(st.just([]), array(len(n))), 'stamp': stamp,
            'frame': st.sampled_from(['', 'base_link'])})

    def good_joint_state(n):
        exact = st.lists(moderate, min_size=len(n), max_size=len(n))
        return st.fixed_dictionaries({
            'names': st.just(list(n)), 'position': exact, 'velocity': exact,
            'effort': st.just([]), 'stamp': stamp, 'frame': st.just('')})

    # About a third of the messages are good (any joint order, extra joints), so good and
    # bad data interleave; the rest are drawn from everything.
    good_names = st.lists(st.sampled_from(EXTRA_JOINTS[:3]), max_size=2, unique=True).flatmap(
        lambda extra: st.permutations(joints + extra))
    def many_joints(k):
        # A robot with many joints: the two configured ones last, values drawn for those.
        return st.fixed_dictionaries({
            'names': st.just([f'j{i}' for i in range(k)] + joints[::-1]),
            'position': st.lists(value, min_size=2, max_size=2).map(lambda v: [0.1] * k + v),
            'velocity': st.lists(value, min_size=2, max_size=2).map(lambda v: [0.0] * k + v),
            'effort': st.just([]), 'stamp': stamp, 'frame': st.just('')})

    message = st.one_of(good_names.flatmap(good_joint_state), names.flatmap(joint_state),
                        names.flatmap(joint_state), st.integers(300, 1000).flatmap(many_joints))
    burst = st.one_of(st.just(0), st.just(0), st.just(0), st.integers(20, 400))
    cartpole = st.fixed_dictionaries({
        'messages': st.lists(message.map(lambda s: ('joint_state', s)), min_size=1,
                             max_size=8),
        'burst': burst})

    def quaternion_of(yaw):
        return (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))

    frame = st.sampled_from(['odom', 'odom', 'odom', 'map', ''])
    odometry = st.fixed_dictionaries({
        'position': st.tuples(st.one_of(st.floats(-3, 6), value), st.one_of(st.floats(-2, 2),
                                                                             value), value),
        'orientation': st.one_of(st.floats(-math.pi, math.pi).map(quaternion_of),
                                 st.floats(-math.pi, math.pi).map(quaternion_of),
                                 st.tuples(value, value, value, value)),
        'v': value, 'w': value, 'vy': value, 'frame': frame, 'stamp': stamp,
        'child_frame': st.sampled_from(['base_link', '', 'base_footprint']),
        'covariance': st.one_of(st.none(), st.sampled_from(SPECIAL))})
    point = st.tuples(st.floats(-5, 5), st.floats(-5, 5))
    points = st.one_of(
        st.lists(point, min_size=2, max_size=30),
        st.lists(point, min_size=2, max_size=30),
        st.just([]),
        point.map(lambda p: [p]),
        point.flatmap(lambda p: st.integers(2, 10).map(lambda k: [p] * k)),   # coincident
        st.lists(st.tuples(value, value), min_size=0, max_size=10),
        st.integers(1000, 5000).map(lambda k: [(0.01 * i, 0.1 * math.sin(0.01 * i))
                                               for i in range(k)]))
    path = st.fixed_dictionaries({'points': points, 'frame': frame, 'stamp': stamp})
    diffdrive = st.fixed_dictionaries({
        'messages': st.lists(st.one_of(odometry.map(lambda s: ('odometry', s)),
                                       odometry.map(lambda s: ('odometry', s)),
                                       odometry.map(lambda s: ('odometry', s)),
                                       path.map(lambda s: ('path', s))),
                             min_size=1, max_size=8),
        'burst': burst})
    return cartpole, diffdrive


def good_joint_state(p=0.1):
    return {'names': list(orc.CARTPOLE_JOINTS), 'position': [p, 0.05], 'velocity': [0.0, 0.0],
            'stamp': (1, 0)}


def straight_path(frame='odom', n=60):
    return {'points': [(0.1 * i, 0.0) for i in range(n)], 'frame': frame, 'stamp': (1, 0)}


def good_odometry(x=1.0, y=0.3, frame='odom'):
    return {'position': (x, y, 0.0), 'orientation': (0.0, 0.0, 0.0, 1.0), 'v': 0.2, 'w': 0.0,
            'frame': frame, 'stamp': (1, 0)}


def explicit_cases(task):
    """Cases every run starts with, so each named oddity is tried whatever hypothesis draws."""
    nan, inf = math.nan, math.inf
    if task == 'cartpole':
        good = good_joint_state()
        js = [
            {'names': [], 'position': [], 'velocity': []},                        # empty
            {**good, 'position': [nan, 0.0]}, {**good, 'velocity': [0.0, -inf]},
            {**good, 'position': [1e300, 0.0]}, {**good, 'position': [3.0e38, 0.0]},
            {**good, 'names': ['slider_to_cart']},                                # missing
            {**good, 'names': ['cart_to_pole', 'slider_to_cart']},                # reordered
            {**good, 'names': ['slider_to_cart', 'cart_to_pole', 'wheel'],
             'position': [0.1, 0.2, 0.3], 'velocity': [0.0, 0.0, 0.0]},           # extra
            {**good, 'names': ['slider_to_cart', 'cart_to_pole', 'cart_to_pole'],
             'position': [0.1, 0.2, 0.3], 'velocity': [0.0, 0.0, 0.0]},           # repeated
            {**good, 'position': [0.1]}, {**good, 'velocity': []},                # short
            {**good, 'position': [0.1, 0.2] + [9.0] * 5000},                      # long
            {**good, 'stamp': (10, 0)}, {**good, 'stamp': (3, 0)},                # backwards
            {**good, 'stamp': (3, 0)},                                            # repeated
        ]
        cases = [{'messages': [('joint_state', s)], 'burst': 0} for s in js]
        cases.append({'messages': [('joint_state', good),
                                   ('joint_state', {**good, 'position': [nan, nan]})],
                      'burst': 400})
        return cases
    good = good_odometry()
    od = [good, {**good, 'position': (nan, 0.0, 0.0)}, {**good, 'orientation': (nan, 0, 0, 1)},
          {**good, 'v': inf}, {**good, 'frame': 'map'}, {**good, 'frame': ''},
          {**good, 'position': (1e300, -1e300, 0.0)}, {**good, 'covariance': nan},
          {**good, 'orientation': (0.0, 0.0, 0.0, 0.0)}]
    cases = [{'messages': [('odometry', s)], 'burst': 0} for s in od]
    paths = [{'points': [], 'frame': 'odom'}, {'points': [(1.0, 1.0)], 'frame': 'odom'},
             {'points': [(1.0, 1.0)] * 5, 'frame': 'odom'},
             {'points': [(0.0, 0.0), (nan, 1.0)], 'frame': 'odom'},
             {'points': [(0.0, 0.0), (1e308, -1e308)], 'frame': 'odom'},
             {'points': [(0.01 * i, 0.0) for i in range(5000)], 'frame': 'odom'}]
    for p in paths:
        cases.append({'messages': [('path', p), ('odometry', good)], 'burst': 0})
    cases.append({'messages': [('odometry', good), ('odometry', {**good, 'w': nan})],
                  'burst': 400})
    return cases


# -- message tags for the report -----------------------------------------------------------------

def _special(values):
    tags = set()
    for v in values:
        if not math.isfinite(v):
            tags.add('non-finite value')
        elif abs(v) > orc.FLOAT32_MAX:
            tags.add('beyond float32')
        elif abs(v) > orc.MODERATE:
            tags.add('huge value')
    return tags


def tags_of(kind, spec, previous_stamp=None):
    tags = set()
    if kind == 'joint_state':
        names = spec['names']
        required = orc.CARTPOLE_JOINTS
        if not names:
            tags.add('empty message')
        if len(set(names)) != len(names):
            tags.add('repeated joint name')
        if any(j not in names for j in required):
            tags.add('missing joint')
        if any(n not in required for n in names):
            tags.add('extra joints')
        order = [n for n in names if n in required]
        if set(order) == set(required) and tuple(order) != required:
            tags.add('reordered joints')
        lengths = [len(spec[a]) for a in ('position', 'velocity')]
        if any(n < len(names) for n in lengths):
            tags.add('array too short')
        if any(n > len(names) for n in lengths):
            tags.add('array too long')
        tags |= _special(list(spec['position']) + list(spec['velocity']))
    elif kind == 'odometry':
        tags.add('odometry')
        tags |= _special(list(spec['position']) + list(spec['orientation'])
                         + [spec['v'], spec['w']])
        if spec['frame'] != 'odom':
            tags.add('odometry frame not odom')
        cov = spec.get('covariance')
        if cov is not None and not math.isfinite(cov):
            tags.add('non-finite covariance')
    else:
        points = spec['points']
        tags.add('path')
        if not points:
            tags.add('empty path')
        elif len(points) == 1:
            tags.add('single-point path')
        elif len({tuple(p) for p in points}) == 1:
            tags.add('coincident path points')
        if len(points) >= 1000:
            tags.add('path of >= 1000 points')
        tags |= {f'path {t}' for t in _special([c for p in points for c in p])}
    stamp = tuple(spec.get('stamp', (0, 0)))
    if previous_stamp is not None:
        if stamp < previous_stamp:
            tags.add('stamp out of order')
        elif stamp == previous_stamp:
            tags.add('stamp repeated')
    return tags


# -- the run -------------------------------------------------------------------------------------

class FuzzRun:
    """Drives one node through many cases and keeps the figures."""

    def __init__(self, task, model, rate_hz=200.0, log=None):
        from .models import echo_model
        self.task = task
        self.log = log or (lambda *_: None)
        self.scratch = Path(tempfile.mkdtemp(prefix='liquid_control_fuzz_'))
        self.echo = echo_model(model, self.scratch / f'{task}_echo.onnx')
        self.nut = NodeUnderTest(task, self.echo, control_rate_hz=float(rate_hz),
                                 sensor_timeout_s=0.2, busy_wait_us=200)
        from .oracle import build_joint_state, build_odometry, build_path
        if task == 'cartpole':
            from sensor_msgs.msg import JointState
            self.pubs = {'joint_state': (self.nut.publisher(JointState, '/joint_states'),
                                         build_joint_state)}
        else:
            from nav_msgs.msg import Odometry
            from nav_msgs.msg import Path as PathMsg
            self.pubs = {'odometry': (self.nut.publisher(Odometry, '/odom'), build_odometry),
                         'path': (self.nut.publisher(PathMsg, '/plan'), build_path)}
        if not self.nut.wait_matched():
            raise RuntimeError('the node did not connect to the fuzz publishers')
        self.oracle = orc.Oracle(task)
        self.cases = 0
        self.messages = 0
        self.burst_cases = 0
        self.burst_messages = 0
        self.verdicts = Counter()
        self.tags = Counter()
        self.lost = 0
        self.mismatches = []
        self.resume_failures = []
        self.resume_latency_ms = []
        self._resumes = 0
        self.recounted = []          # counting mismatches that a re-send showed were not
        self._recent = deque(maxlen=12)
        self._previous_stamp = None
        self.started = time.monotonic()
        if task == 'diffdrive':
            self._install_path(straight_path(), known_good=True)

    # -- helpers ---------------------------------------------------------------------------------
    def _publish(self, kind, spec):
        pub, build = self.pubs[kind]
        pub.publish(build(spec))

    def _tracker(self):
        source = self.nut.node._layout.sources[0]
        return source.extract.tracker

    def _install_path(self, spec, known_good=False):
        """Publish a path and wait until the node took it (a new tracker) or rejected it.

        known_good: only acceptance ends the wait. Odometry rejections of a burst may still
        be counted while the path (another topic, another thread) is taken, so the rejection
        count tells about the path only when no burst is in flight.
        """
        before = self._tracker()
        rejected = self.nut.counters()[1]
        self._publish('path', spec)

        points = np.asarray(spec['points'], dtype=np.float64)
        if before is not None and spec['frame'] == self.oracle.path_frame and \
                before.same_path(points):
            # The path being tracked, republished: the node keeps tracking it as it was.
            self.oracle.path_outcome(spec, True)
            return True, True

        def taken():
            tracker = self._tracker()
            if tracker is before or tracker is None:
                return False
            # A known-good path is recognised by its points: a path of the burst before it
            # may be taken first.
            return not known_good or np.array_equal(tracker.path.xy, points)

        def done():
            return taken() or not known_good and self.nut.counters()[1] > rejected
        ok = wait_until(done, MESSAGE_TIMEOUT_S)
        accepted = ok and taken()
        self.oracle.path_outcome(spec, accepted)
        return ok, accepted

    def _fail(self, what):
        raise FuzzFailure(what)

    # -- one case --------------------------------------------------------------------------------
    def run_case(self, case):
        self.cases += 1
        messages = case['messages']
        for kind, spec in messages:
            stamp = tuple(spec.get('stamp', (0, 0)))
            self.tags.update(tags_of(kind, spec, self._previous_stamp))
            self._previous_stamp = stamp
        if case['burst']:
            self._burst(messages, case['burst'])      # ends with the resume
        else:
            for kind, spec in messages:
                self._one(kind, spec)
            self._resume()
        self._check_health()

    def _one(self, kind, spec):
        verdict = self.oracle.message(kind, spec)
        self.verdicts[verdict] += 1
        self.messages += 1
        if kind == 'path':
            self._recent.append((kind, verdict) + tuple(self.nut.counters()[:2]))
            ok, accepted = self._install_path(spec)
            if not ok:
                self.lost += 1
            elif verdict == orc.GOOD and not accepted or verdict == orc.BAD and accepted:
                self._mismatch(kind, spec, verdict, 'accepted' if accepted else 'rejected')
            return
        received, rejected, _ = self.nut.counters()
        self._recent.append((kind, verdict, received, rejected))
        if verdict == orc.IGNORED:
            # Odometry without a usable path counts nowhere; the source notes that it waits
            # for a path. Wait for that note, so a path sent next cannot reach the node
            # before this message is taken (it would then be used, and counted).
            source = self.nut.node._layout.sources[0]
            source.waiting_for = ''
            self._publish(kind, spec)
            if not wait_until(lambda: source.waiting_for != '', MESSAGE_TIMEOUT_S):
                self.lost += 1
            elif self.nut.counters()[:2] != (received, rejected):
                self._mismatch(kind, spec, verdict, 'counted')
            return
        self._publish(kind, spec)

        def counted():
            r, j, _ = self.nut.counters()
            return r > received or j > rejected
        if not wait_until(counted, MESSAGE_TIMEOUT_S):
            self.lost += 1
            return
        r, j, _ = self.nut.counters()
        outcome = 'received' if r > received else 'rejected'
        if (verdict == orc.GOOD and outcome != 'received'
                or verdict == orc.BAD and outcome != 'rejected'):
            if self._recheck(kind, spec):
                return
            self._mismatch(kind, spec, verdict, outcome)

    def _recheck(self, kind, spec):
        """After a counting mismatch: good data (everything before it is then taken), then
        the same message alone. True if the node now does what the oracle says, i.e. the
        first count belonged to another message still in flight; recorded as such. A node
        that handles the message wrongly fails here too."""
        self._resume()
        verdict = self.oracle.message(kind, spec)
        received, rejected, _ = self.nut.counters()
        self._publish(kind, spec)
        if not wait_until(lambda: self.nut.counters()[:2] != (received, rejected),
                          MESSAGE_TIMEOUT_S):
            return False
        r, _, _ = self.nut.counters()
        outcome = 'received' if r > received else 'rejected'
        if (verdict, outcome) in ((orc.GOOD, 'received'), (orc.BAD, 'rejected')):
            self.recounted.append(f'{kind}: {_short(spec, 200)}; before it: '
                                  f'{list(self._recent)[-6:-1]}')
            return True
        return False

    def _mismatch(self, kind, spec, verdict, outcome):
        text = (f'{kind} expected {verdict}, node {outcome}: {_short(spec)}; the messages '
                f'before it (kind, verdict, received, rejected): {list(self._recent)[-6:-1]}')
        self.mismatches.append(text)
        self._fail(text)

    def _burst(self, messages, count):
        self._recent.append(('burst', count) + tuple(self.nut.counters()[:2]))
        self.burst_cases += 1
        before = self.nut.counters()
        sent = 0
        for i in range(count):
            kind, spec = messages[i % len(messages)]
            if kind == 'path':
                # A planner publishes a path at a few Hz: paths go out once per burst, the
                # sensor data around them at the burst rate.
                if i >= len(messages):
                    continue
                self.oracle.path_frame = None     # unknown until the resume installs one
            self._publish(kind, spec)
            sent += 1
        count = sent
        self.messages += count
        self.burst_messages += count
        self._resume()   # in-order delivery: once the resume message is used, all came in
        after = self.nut.counters()
        handled = (after[0] - before[0] - 1) + (after[1] - before[1])
        if handled > count:
            self._fail(f'burst of {count}: the node counted {handled} messages')

    def _resume(self):
        """Good data now -> a command computed from it, within RESUME_TIMEOUT_S."""
        # Every resume carries a value of its own, so a command from an earlier resume can
        # never pass for this one.
        self._resumes += 1
        k = self._resumes % 900
        start = time.monotonic()
        if self.task == 'cartpole':
            p = 0.05 + k * 1e-3
            spec = good_joint_state(p)
            expected = np.array([p])
            kind = 'joint_state'
        else:
            # A good path other than the one tracked (their lengths alternate): the node
            # restarts tracking from its start, a state the expected features know.
            good = straight_path(n=60 + self._resumes % 2)
            ok, accepted = self._install_path(good, known_good=True)
            if not accepted:
                self.resume_failures.append('the good path was not accepted')
                self._fail('the good path was not accepted after the case')
            y = 0.1 + k * 8e-4
            spec = good_odometry(y=y)
            from liquid_control.control.path_features import PathTracker
            features = PathTracker(np.array(good['points'])).features(
                np.array([1.0, y]), 0.0, 0.2, 0.0)
            expected = np.clip(np.asarray(features[:2], dtype=np.float64), [0.0, -2.0],
                               [1.0, 2.0])
            kind = 'odometry'

        def controlled(values):
            return values is not None and np.allclose(values, expected, atol=1e-5)
        for attempt in range(2):     # a second publication only if the first was lost
            self._publish(kind, spec)
            if self.nut.commands.wait_for(controlled, RESUME_TIMEOUT_S):
                self.resume_latency_ms.append((time.monotonic() - start) * 1e3)
                return
        self.resume_failures.append(f'case {self.cases}: no command from good data')
        self._fail(f'case {self.cases}: no command computed from the good data within '
                   f'{2 * RESUME_TIMEOUT_S:g} s (latest command {self.nut.commands.latest})')

    def _check_health(self):
        crashes = self.nut.crashes()
        if crashes:
            self._fail('crash: ' + '; '.join(crashes))
        if self.nut.commands.bad:
            self._fail(f'bad command: {self.nut.commands.first_bad}')

    # -- figures ---------------------------------------------------------------------------------
    def result(self, failure=None):
        received, rejected, rejected_steps = self.nut.counters()
        diag = self.nut.next_diagnostics(timeout=3.0)
        diag_rejected = int(diag[2]['rejected_messages']) if diag else None
        crashes = self.nut.crashes()
        c = self.nut.commands
        latency = np.array(self.resume_latency_ms) if self.resume_latency_ms else np.zeros(1)
        return {
            'task': self.task,
            'cases': self.cases,
            'messages': self.messages,
            'burst_cases': self.burst_cases,
            'burst_messages': self.burst_messages,
            'expected': dict(self.verdicts),
            'tags': dict(sorted(self.tags.items())),
            'node_received': received,
            'node_rejected_messages': rejected,
            'node_rejected_steps': rejected_steps,
            'diagnostics_rejected_messages': diag_rejected,
            'diagnostics_match': diag_rejected == rejected,
            'commands': c.count,
            'safe_commands': c.safe_count,
            'non_finite_commands': c.non_finite,
            'out_of_limit_commands': c.out_of_limits,
            'malformed_commands': c.bad_shape,
            'crashes': len(crashes),
            'crash_reasons': crashes,
            'oracle_mismatches': len(self.mismatches),
            'recounted_messages': len(self.recounted),
            'recount_examples': self.recounted[:3],
            'known_bug_messages': self.oracle.known_bug_hits,
            'known_bugs': sorted(orc.KNOWN_NODE_BUGS),
            'mismatch_examples': self.mismatches[:5],
            'resume_failures': len(self.resume_failures),
            'resume_latency_ms_p50': float(np.percentile(latency, 50)),
            'resume_latency_ms_max': float(latency.max()),
            'lost_messages': self.lost,
            'missed_ticks': int(self.nut.node._stats.total_missed),
            'failure': failure,
            'seconds': time.monotonic() - self.started,
        }

    def close(self):
        self.nut.close()


def _short(spec, limit=300):
    text = spec if isinstance(spec, str) else repr(spec)
    return text if len(text) <= limit else text[:limit] + '...'


def run_fuzz(cases=200, task='cartpole', model=None, seed=0, rate_hz=200.0, log=None,
             shrink=True):
    """Fuzz the node for `task` with `cases` hypothesis cases (plus the explicit ones).

    model: a contract model for the task (default: a probe model). Returns the figures
    (see FuzzRun.result); 'failure' holds the falsifying case if a property broke.
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    if model is None:
        from .models import probe_model
        model = probe_model(Path(tempfile.mkdtemp(prefix='liquid_control_probe_'))
                            / f'{task}_probe.onnx', task)
    run = FuzzRun(task, model, rate_hz=rate_hz, log=log)
    failure = None
    try:
        for case in explicit_cases(task):
            run.run_case(case)
        cartpole, diffdrive = strategies()
        phases = (Phase.generate, Phase.shrink) if shrink else (Phase.generate,)

        @hypothesis_seed(seed)
        @settings(max_examples=cases, deadline=None, database=None, phases=phases,
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(cartpole if task == 'cartpole' else diffdrive)
        def each_case(case):
            run.run_case(case)
            if log and run.cases % 100 == 0:
                log(f'fuzz {task}: {run.cases} cases, {run.messages} messages')

        each_case()
    except Exception as exc:  # a broken property: reported with the (shrunk) case
        failure = _short(f'{type(exc).__name__}: {exc}', 3000)
    finally:
        try:
            figures = run.result(failure)
        finally:
            run.close()
    return figures
