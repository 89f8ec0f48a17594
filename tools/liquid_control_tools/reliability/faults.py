"""Fault scenarios: the node and the simulator as separate processes, a fault injected into
each, and what must (and must not) happen checked over DDS.

Every scenario returns {'scenario', 'survived', 'checks': [{'check', 'ok', 'detail'}],
'figures': {...}, 'seconds'}; it survived when every check holds. `run_faults()` runs them
all (the bench); each test in test/integration/test_faults_node.py runs one. Throughout
every scenario the command watch checks each command the node publishes (finite, within the
limits).

Scenarios:
  sensor_restart      the sensor driver is killed (SIGKILL) and restarted
  sim_pause           the simulator is paused and resumed (controller on sim time)
  clock_backwards     /clock jumps back (a simulation reset): no crash, the state is reset
  sim_reset_clock     sim_node's reset with reset_clock: /clock restarts at 0, control goes on
  model_file_faults   swaps to a removed, truncated, corrupted, replaced-while-loading file
  invalid_parameters  wrong values and types rejected with a reason, node unchanged
  signal_stop         SIGINT and SIGTERM: the safe command goes out before the exit
  controller_killed   the controller is killed: the simulator falls back to zero command
"""
from __future__ import annotations

import math
import shutil
import signal
import tempfile
import threading
import time
import traceback
from pathlib import Path

import numpy as np

from .harness import CONTROLLER_STATUS, SIM_STATUS, Driver, task_parameters, wait_until
from .processes import (NodeProcess, controller_command, node_environment, sensor_command,
                        sim_command)

CONTROLLER = '/liquid_controller'
SIM = '/liquid_sim'
START_TIMEOUT_S = 30.0          # a process: start, import, discover, first command
SENSOR_TIMEOUT_S = 0.2
RATE_HZ = 100.0
FEED_POSITION = 0.4             # the cart position fed to echo models: the command it gives


class ScenarioAbort(Exception):
    """A step the rest of the scenario depends on did not happen."""


class Scenario:
    """Processes, a driver and the checks of one scenario; cleans up after itself."""

    def __init__(self, name, workdir=None, task='cartpole'):
        self.name = name
        self.task = task
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f'liquid_control_{name}_'))
        self.workdir.mkdir(parents=True, exist_ok=True)
        limits = task_parameters(task)
        self.low, self.high = limits['action.min'], limits['action.max']
        self.safe = limits['action.safe']
        self.driver = None
        self.processes = []
        self.checks = []
        self.figures = {}
        self.started = time.monotonic()

    def start_driver(self, safe=None):
        if safe is not None:
            self.safe = safe
        self.driver = Driver(self.task, self.low, self.high, self.safe)
        self.driver.commands.history = []
        return self.driver

    def process(self, command, name):
        proc = NodeProcess(name, command, node_environment(),
                           self.workdir / f'{name}_{len(self.processes)}.log')
        self.processes.append(proc)
        return proc

    def controller(self, model, **params):
        values = dict(control_rate_hz=RATE_HZ, sensor_timeout_s=SENSOR_TIMEOUT_S,
                      busy_wait_us=200)
        values.update(params)
        return self.process(controller_command(self.task, model=str(model), **values),
                            'controller')

    def check(self, what, ok, detail=''):
        self.checks.append({'check': what, 'ok': bool(ok), 'detail': str(detail)})
        return ok

    def require(self, what, ok, detail=''):
        if not self.check(what, ok, detail):
            raise ScenarioAbort(what)

    def wait_command(self, predicate, timeout, what):
        """Wait for a command with predicate(values); abort the scenario if none comes."""
        ok = self.driver.commands.wait_for(predicate, timeout)
        self.require(what, ok, f'latest command {self.driver.commands.latest}')

    def commands_since(self, t0, t1=None):
        return [v for t, v in self.driver.commands.history
                if t >= t0 and (t1 is None or t <= t1)]

    def result(self, error=None):
        c = self.driver.commands if self.driver else None
        if c is not None:
            self.check('every command finite and within the limits', c.bad == 0,
                       c.first_bad or f'{c.count} commands')
            self.figures.update(commands=c.count, bad_commands=c.bad)
        if error is not None:
            self.checks.append({'check': 'scenario ran to the end', 'ok': False,
                                'detail': error})
        survived = all(ch['ok'] for ch in self.checks)
        out = {'scenario': self.name, 'survived': survived, 'checks': self.checks,
               'figures': self.figures, 'seconds': round(time.monotonic() - self.started, 1)}
        if not survived:
            out['logs'] = {p.log_path.name: p.tail(30) for p in self.processes}
        return out

    def close(self):
        for proc in self.processes:
            proc.stop(5.0)
        if self.driver is not None:
            self.driver.close()


def run_scenario(name, body, **kwargs):
    """Run body(scenario) and return the scenario's result (never raises)."""
    scenario = Scenario(name, kwargs.pop('workdir', None), kwargs.pop('task', 'cartpole'))
    error = None
    try:
        body(scenario, **kwargs)
    except ScenarioAbort as exc:
        error = f'aborted: {exc}'
    except Exception:  # a harness failure is reported, not hidden
        error = traceback.format_exc(limit=5)
    try:
        return scenario.result(error)
    finally:
        scenario.close()


def _close(expected):
    expected = np.asarray(expected, dtype=np.float64)
    return lambda values: values is not None and np.allclose(values, expected, atol=1e-5)


def _not(expected):
    close = _close(expected)
    return lambda values: values is not None and not close(values)


def _echo_model(workdir, model=None, seed=0):
    from .models import echo_model, probe_model
    base = Path(model) if model else probe_model(Path(workdir) / f'probe_{seed}.onnx',
                                                 'cartpole', seed=seed)
    return echo_model(base, Path(workdir) / f'echo_{seed}.onnx')


def _probe_model(workdir, model=None):
    from .models import probe_model
    return Path(model) if model else probe_model(Path(workdir) / 'probe.onnx', 'cartpole')


def _joint_feed(scenario, position=FEED_POSITION, rate_hz=RATE_HZ):
    """Publish a fixed JointState from the driver at rate_hz (a timer of the driver node)."""
    from sensor_msgs.msg import JointState

    from .fuzz import good_joint_state
    from .oracle import build_joint_state
    pub = scenario.driver.publisher(JointState, '/joint_states', depth=10)
    msg = build_joint_state(good_joint_state(position))
    return scenario.driver.node.create_timer(1.0 / rate_hz, lambda: pub.publish(msg))


def _status_values(item):
    return item[2] if item else {}


def _floats(text):
    return [float(v) for v in text.strip('[]').split(',') if v.strip()]


# -- 1. sensor driver killed and restarted --------------------------------------------------------

def sensor_restart(s, model=None):
    echo = _echo_model(s.workdir, model)
    s.start_driver()
    controller = s.controller(echo)
    sensor = s.process(sensor_command(RATE_HZ, FEED_POSITION), 'sensor')
    s.wait_command(_close([FEED_POSITION]), START_TIMEOUT_S, 'controlling on the sensor data')
    t_kill = time.monotonic()
    sensor.kill()
    s.wait_command(_close(s.safe), 5.0, 'safe command after the sensor died')
    t_safe = time.monotonic()
    latency = t_safe - t_kill
    # How fast is a figure (the report prints it beside sensor_timeout_s); that it came at
    # all, within wait_command's seconds, is the check.
    s.figures['kill_to_safe_command_s'] = round(latency, 3)
    status = s.driver.next_status(CONTROLLER_STATUS, lambda it: it[2].get('watchdog') ==
                                  'tripped', timeout=5.0)
    s.check('diagnostics report the watchdog at ERROR', status is not None and status[0] == 2,
            status[1] if status else 'no status')
    s.require('commands go on while the sensor is down',
              s.driver.commands.wait_count(int(RATE_HZ // 2), 5.0))
    t_restart = time.monotonic()
    s.process(sensor_command(RATE_HZ, FEED_POSITION), 'sensor')
    s.wait_command(_close([FEED_POSITION]), START_TIMEOUT_S, 'control resumed on restart')
    s.figures['restart_to_control_s'] = round(time.monotonic() - t_restart, 3)
    outage = s.commands_since(t_safe, t_restart)
    s.check('only the safe command while the sensor was down (at least 40 commands)',
            len(outage) >= 40 and all(np.allclose(v, s.safe) for v in outage),
            f'{len(outage)} commands')
    s.figures['commands_during_outage'] = len(outage)
    status = s.driver.next_status(CONTROLLER_STATUS, lambda it: it[2].get('watchdog') == 'ok',
                                  timeout=5.0)
    s.check('diagnostics report the watchdog ok again', status is not None,
            status[1] if status else 'no status')
    s.check('controller process alive', controller.alive, controller.tail(10))


# -- 2. simulator paused and resumed --------------------------------------------------------------

def sim_pause(s, model=None):
    probe = _probe_model(s.workdir, model)
    s.start_driver()
    sim = s.process(sim_command(task='cartpole', mode='realtime', publish_rate_hz=50.0,
                                command_timeout_s=0.5), 'sim')
    controller = s.controller(probe, use_sim_time=True, control_rate_hz=50.0)
    s.wait_command(_not(s.safe), START_TIMEOUT_S, 'controlling the simulation')
    running = s.driver.next_status(SIM_STATUS, lambda it: it[1] == 'running', timeout=10.0)
    s.require('simulation running', running is not None)
    timeouts_before = int(_status_values(running).get('command_timeouts', 0))
    ok, reason = s.driver.set_parameter(SIM, 'paused', True)
    s.require('pause accepted', ok, reason)
    t_pause = time.monotonic()
    paused = [s.driver.next_status(SIM_STATUS, lambda it: it[1] == 'paused', timeout=5.0)
              for _ in range(4)]                     # about 1 s of pause (4 x 0.25 s)
    s.require('simulation paused', all(p is not None for p in paused))
    t_resume = time.monotonic()
    during = s.commands_since(t_pause + 0.1, t_resume)
    s.figures['pause_s'] = round(t_resume - t_pause, 2)
    s.figures['commands_during_pause'] = len(during)
    ok, reason = s.driver.set_parameter(SIM, 'paused', False)
    s.require('resume accepted', ok, reason)
    s.require('commands resume after the pause', s.driver.commands.wait_count(25, 5.0))
    s.figures['resume_to_25_commands_s'] = round(time.monotonic() - t_resume, 3)
    status = s.driver.next_status(CONTROLLER_STATUS, timeout=5.0)
    values = _status_values(status)
    s.check('controller watchdog never tripped by the pause',
            values.get('watchdog_trips') == '0', values.get('watchdog_trips'))
    after = s.driver.next_status(SIM_STATUS, lambda it: it[1] == 'running', timeout=5.0)
    s.check('simulation running again', after is not None)
    timeouts_after = int(_status_values(after).get('command_timeouts', 0))
    s.check('no simulator command timeout caused by the pause',
            timeouts_after == timeouts_before, f'{timeouts_before} -> {timeouts_after}')
    s.check('processes alive', controller.alive and sim.alive,
            controller.tail(10) + sim.tail(10))


# -- 3. /clock jumps backwards -------------------------------------------------------------------

def clock_backwards(s, model=None, steps=25):
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import JointState

    from liquid_control.runtime import load_controller

    from .fuzz import good_joint_state
    from .oracle import build_joint_state

    probe = _probe_model(s.workdir, model)
    s.start_driver()
    period = 0.02
    controller = s.controller(probe, use_sim_time=True, control_rate_hz=1 / period,
                              sensor_timeout_s=0.1)
    clock = s.driver.publisher(Clock, '/clock', depth=10)
    joints = s.driver.publisher(JointState, '/joint_states', depth=10)
    obs_spec = good_joint_state(0.3)
    obs = [0.3, 0.0, 0.05, 0.0]      # the model's order: cart x, cart v, pole angle, pole rate
    msg = build_joint_state(obs_spec)
    s.require('controller subscribed to /clock',
              wait_until(lambda: clock.get_subscription_count() >= 1
                         and joints.get_subscription_count() >= 1, START_TIMEOUT_S, 0.05))

    def tick(t_ns):
        joints.publish(msg)
        stamp = Clock()
        stamp.clock.sec, stamp.clock.nanosec = divmod(int(t_ns), 1_000_000_000)
        mark = s.driver.commands.count
        clock.publish(stamp)
        s.driver.commands.wait_count(1, 2.0)
        return s.driver.commands.latest if s.driver.commands.count > mark else None

    def run(t0_ns):
        out = []
        for k in range(steps):
            out.append(tick(t0_ns + k * int(period * 1e9)))
        return out

    # The first /clock may be taken before the timer exists: warm up until commands flow.
    warm = run(50 * 10 ** 9)
    s.require('controller ticking on /clock', any(v is not None for v in warm))
    run(100 * 10 ** 9)                 # ticking forward in time first
    after = run(1 * 10 ** 9)           # 99 s back: a simulation reset
    s.require('controller alive after the jump', controller.alive, controller.tail(20))
    controlled = [v for v in after if v is not None and not np.allclose(v, s.safe)]
    s.require('control resumes after the jump', len(controlled) >= 5,
              f'{len(controlled)} controlled commands')
    reference = load_controller(probe)
    fresh = reference.step(obs, period)[0]          # from a zero state
    carried = load_controller(probe)
    for _ in range(3 * steps):
        carried.step(obs, period)
    stale = carried.step(obs, period)[0]            # had the state been carried over
    first = float(controlled[0][0])
    s.figures.update(first_after_jump=first, fresh_state_expected=float(fresh),
                     carried_state_would_be=float(stale))
    s.check('the reference distinguishes a reset state', abs(fresh - stale) > 1e-3,
            f'{fresh} vs {stale}')
    s.check('state reset: the first command after the jump is a zero-state step',
            abs(first - fresh) < 1e-4, f'{first} vs {fresh}')
    s.check('controller alive', controller.alive)


def sim_reset_clock(s, model=None):
    """A Gazebo-style world reset: sim_node's ~/reset with reset_clock restarts /clock at 0
    under a controller on sim time."""
    from std_srvs.srv import Trigger

    probe = _probe_model(s.workdir, model)
    s.start_driver()
    sim = s.process(sim_command(task='cartpole', mode='realtime', publish_rate_hz=50.0,
                                command_timeout_s=0.5, reset_clock=True), 'sim')
    controller = s.controller(probe, use_sim_time=True, control_rate_hz=50.0)
    s.wait_command(_not(s.safe), START_TIMEOUT_S, 'controlling the simulation')
    # Let sim time get well past 0 so the reset is a real jump back.
    late = s.driver.next_status(SIM_STATUS, lambda it: _f(it[2], 'sim_time') >= 2.0,
                                timeout=15.0)
    s.require('sim time past 2 s', late is not None)
    before = _f(late[2], 'sim_time')
    s.driver.commands.gaps = []
    s.driver.commands.restart_gaps()
    response = s.driver.call(Trigger, f'{SIM}/reset', Trigger.Request())
    s.require('reset accepted', response.success, response.message)
    early = s.driver.next_status(SIM_STATUS, lambda it: _f(it[2], 'sim_time') < before,
                                 timeout=5.0)
    s.check('/clock went back', early is not None,
            f'{before:.2f} s -> {_f(early[2], "sim_time") if early else "?"} s')
    s.wait_command(_not(s.safe), 10.0, 'controlling again after the reset')
    s.figures['clock_before_reset_s'] = round(before, 2)
    s.require('commands keep coming', s.driver.commands.wait_count(50, 5.0))
    # Sim time: the commands follow /clock, 20 ms apart (plus the sim's real-time jitter).
    s.figures['longest_command_gap_around_reset_ms'] = round(s.driver.commands.max_gap_ns / 1e6,
                                                             1)
    s.figures['safe_commands_in_scenario'] = s.driver.commands.safe_count
    running = s.driver.next_status(SIM_STATUS, lambda it: it[1] == 'running', timeout=5.0)
    s.check('simulation running with the controller', running is not None)
    s.check('processes alive', controller.alive and sim.alive,
            controller.tail(10) + sim.tail(10))


def _f(values, key):
    try:
        return float(values.get(key, 'nan'))
    except ValueError:
        return math.nan


# -- 4. model file faults during a swap ----------------------------------------------------------

def model_file_faults(s, model=None, race_swaps=30):
    from liquid_control.runtime import integrity

    workdir = s.workdir
    a = _echo_model(workdir, model, seed=0)
    b = _echo_model(workdir, None, seed=1)
    running = workdir / 'running.onnx'
    shutil.copy(a, running)
    sha_a = integrity.sha256_hex(running.read_bytes())
    b_bytes = b.read_bytes()
    sha_b = integrity.sha256_hex(b_bytes)
    s.start_driver()
    controller = s.controller(running)
    feed = _joint_feed(s)
    s.wait_command(_close([FEED_POSITION]), START_TIMEOUT_S, 'controlling with the model')

    def swap_refused(path, expect, what):
        ok, reason = s.driver.set_parameter(CONTROLLER, 'model', str(path))
        s.check(f'{what}: swap refused with a reason', not ok and expect in reason,
                reason or 'accepted')
        status = s.driver.next_status(CONTROLLER_STATUS, timeout=5.0)
        values = _status_values(status)
        s.check(f'{what}: running model kept', values.get('model_sha256') == sha_a,
                values.get('model_sha256'))
        s.wait_command(_close([FEED_POSITION]), 5.0, f'{what}: still controlling')

    swap_refused(workdir / 'removed.onnx', 'no such model file', 'missing file')
    truncated = workdir / 'truncated.onnx'
    truncated.write_bytes(b_bytes[:len(b_bytes) // 2])
    swap_refused(truncated, 'not a loadable ONNX model', 'truncated file')
    flipped = workdir / 'flipped.onnx'
    data = bytearray(b_bytes)
    data[len(data) // 3] ^= 0x40
    flipped.write_bytes(bytes(data))
    integrity.card_path(flipped).write_text(f'- file sha256: `{sha_b}`\n')
    swap_refused(flipped, 'does not match', 'corrupted file with a card')
    garbage = workdir / 'garbage.onnx'
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    swap_refused(garbage, 'not a loadable ONNX model', 'random bytes')
    running.unlink()
    swap_refused(running, 'no such model file', 'running model removed from disk')

    # The file is rewritten (in place, not atomically) while swaps are requested.
    target = workdir / 'churning.onnx'
    target.write_bytes(b_bytes)
    stop = threading.Event()
    rng = np.random.default_rng(1)

    def churn():
        while not stop.is_set():
            with open(target, 'wb') as f:
                f.write(b_bytes[:int(rng.integers(0, len(b_bytes)))])
                f.flush()
                f.write(b_bytes[f.tell():])
            if rng.random() < 0.5:
                target.write_bytes(rng.bytes(len(b_bytes)))
    writer = threading.Thread(target=churn, daemon=True)
    writer.start()
    outcomes = {'accepted': 0, 'refused': 0, 'refused_without_reason': 0}
    try:
        for _ in range(race_swaps):
            ok, reason = s.driver.set_parameter(CONTROLLER, 'model', str(target))
            if ok:
                outcomes['accepted'] += 1
            elif reason:
                outcomes['refused'] += 1
            else:
                outcomes['refused_without_reason'] += 1
    finally:
        stop.set()
        writer.join(5)
    s.figures['swaps_while_rewritten'] = outcomes
    s.check('every refused swap gave a reason', outcomes['refused_without_reason'] == 0)
    s.wait_command(_close([FEED_POSITION]), 5.0, 'still controlling after the churn')
    status = s.driver.next_status(CONTROLLER_STATUS, timeout=5.0)
    active = _status_values(status).get('model_sha256')
    s.check('the active model is one of the two valid files', active in (sha_a, sha_b), active)
    good = workdir / 'good_b.onnx'
    good.write_bytes(b_bytes)
    ok, reason = s.driver.set_parameter(CONTROLLER, 'model', str(good))
    s.check('a valid swap still works afterwards', ok, reason)
    status = s.driver.next_status(CONTROLLER_STATUS,
                                  lambda it: it[2].get('model_sha256') == sha_b, timeout=5.0)
    s.check('diagnostics show the new model', status is not None)
    s.wait_command(_close([FEED_POSITION]), 5.0, 'controlling with the new model')
    s.driver.node.destroy_timer(feed)
    s.check('controller process alive', controller.alive, controller.tail(10))


# -- 5. invalid parameters ------------------------------------------------------------------------

INVALID_PARAMETERS = (
    ('control_rate_hz', -50.0), ('control_rate_hz', 0.0), ('control_rate_hz', 1e9),
    ('control_rate_hz', math.nan), ('control_rate_hz', math.inf), ('control_rate_hz', 'fast'),
    ('control_rate_hz', True), ('control_rate_hz', [100.0]),
    ('sensor_timeout_s', 0.0), ('sensor_timeout_s', -1.0), ('sensor_timeout_s', 'soon'),
    ('model', 'no_such_controller'), ('model', ''), ('model', 42), ('model', '../escape'),
    ('model', '/nonexistent/dir/model.onnx'),
    ('model_sha256', 'cafe'), ('model_sha256', '0' * 64), ('require_sha256', True),
    ('dt_source', 'bogus'), ('dt_source', 3.0),
    ('busy_wait_us', -5), ('busy_wait_us', 1.5),
    ('action.min', [10.0]), ('action.max', [-40.0]), ('action.safe', [100.0]),
    ('action.rate_limit', [-1.0]), ('action.min', [1.0, 2.0]), ('action.min', ['low']),
    ('action.safe', [math.nan]),
    ('observations.sources', ['imu']), ('action.topic', 'elsewhere'), ('autostart', False),
    ('controller', 'cfc'),
)


def invalid_parameters(s, model=None):
    from lifecycle_msgs.srv import GetState

    echo = _echo_model(s.workdir, model)
    s.start_driver()
    controller = s.controller(echo)
    feed = _joint_feed(s)
    s.wait_command(_close([FEED_POSITION]), START_TIMEOUT_S, 'controlling')
    names = sorted({name for name, _ in INVALID_PARAMETERS if name != 'controller'})
    original = {name: s.driver.get_parameter(CONTROLLER, name) for name in names}
    rejected = []
    for name, value in INVALID_PARAMETERS:
        ok, reason = s.driver.set_parameter(CONTROLLER, name, value)
        s.check(f'{name} = {value!r} rejected with a reason', not ok and reason.strip(),
                reason or 'accepted')
        rejected.append({'parameter': name, 'value': repr(value), 'rejected': not ok,
                         'reason': reason})
    s.figures['rejections'] = rejected
    now = {name: s.driver.get_parameter(CONTROLLER, name) for name in names}
    changed = {n: (original[n], now[n]) for n in names if not _same(original[n], now[n])}
    s.check('no parameter changed', not changed, changed)
    state = s.driver.call(GetState, f'{CONTROLLER}/get_state', GetState.Request())
    s.check('node still active', state.current_state.label == 'active',
            state.current_state.label)
    t0 = time.monotonic()
    s.require('commands continue', s.driver.commands.wait_count(int(RATE_HZ), 5.0))
    rate = RATE_HZ / (time.monotonic() - t0)
    s.figures['command_rate_after_hz'] = round(rate, 1)   # a figure: the machine's load
    s.wait_command(_close([FEED_POSITION]), 5.0, 'still controlling on the data')
    s.driver.node.destroy_timer(feed)
    s.check('controller process alive', controller.alive, controller.tail(10))


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


# -- 6. SIGINT / SIGTERM: the safe command goes out -----------------------------------------------

def signal_stop(s, model=None):
    echo = _echo_model(s.workdir, model)
    safe = [1.5]
    s.start_driver(safe=safe)
    exits = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        controller = s.controller(echo, **{'action.safe': safe})
        feed = _joint_feed(s)
        s.wait_command(_close([FEED_POSITION]), START_TIMEOUT_S,
                       f'{sig.name}: controlling before the signal')
        t_signal = time.monotonic()
        controller.send(sig)
        code = controller.wait(10.0)
        s.check(f'{sig.name}: process exits with 0 within 10 s', code == 0, code)
        # Commands are reliable and ordered: wait until the last one sent has arrived.
        s.driver.commands.wait_for(_close(safe), 2.0)
        after = s.commands_since(t_signal)
        s.check(f'{sig.name}: the safe command went out',
                any(np.allclose(v, safe) for v in after), f'{len(after)} commands after')
        last = s.driver.commands.latest
        s.check(f'{sig.name}: the last command is the safe one', np.allclose(last, safe), last)
        s.driver.node.destroy_timer(feed)
        exits[sig.name] = code
    s.figures['exit_codes'] = exits


# -- 7. controller killed: the simulator falls back to zero ---------------------------------------

def controller_killed(s, model=None):
    probe = _probe_model(s.workdir, model)
    s.start_driver()
    command_timeout = 0.5
    sim = s.process(sim_command(task='cartpole', mode='realtime', publish_rate_hz=50.0,
                                command_timeout_s=command_timeout), 'sim')
    controller = s.controller(probe, control_rate_hz=50.0)
    s.wait_command(_not(s.safe), START_TIMEOUT_S, 'controller commanding the simulation')

    def holding(item):
        values = item[2]
        return item[1] == 'running' and any(v != 0.0 for v in
                                            _floats(values.get('held_command', '[]')))
    s.require('simulator holds a non-zero command',
              s.driver.next_status(SIM_STATUS, holding, timeout=10.0) is not None)
    t_kill = time.monotonic()
    controller.kill()

    def zeroed(item):
        # held_command stays the last command received; command_timed_out says the
        # actuators get zero instead (SimCore.applied_command).
        return item[2].get('command_timed_out') == 'true'
    status = s.driver.next_status(SIM_STATUS, zeroed, timeout=command_timeout + 10.0)
    latency = time.monotonic() - t_kill
    s.check('simulator reports the command timeout: actuators at zero',
            status is not None and 'zero' in status[1],
            status[1] if status else 'no such status')
    if status is not None:
        s.figures['last_held_command'] = status[2].get('held_command')
        s.figures['sim_command_timeouts'] = status[2].get('command_timeouts')
    s.figures['kill_to_zero_reported_s'] = round(latency, 2)
    # The zero is applied at command_timeout_s of sim time (SimCore.advance_to); how soon it
    # shows here depends on the 1 s diagnostics period and on the machine's load.
    s.check('reported within command_timeout_s + one diagnostics period + 5 s of slack',
            latency <= command_timeout + 6.0, f'{latency:.2f} s')
    s.check('simulator alive', sim.alive, sim.tail(10))


SCENARIOS = {
    'sensor_restart': sensor_restart,
    'sim_pause': sim_pause,
    'clock_backwards': clock_backwards,
    'sim_reset_clock': sim_reset_clock,
    'model_file_faults': model_file_faults,
    'invalid_parameters': invalid_parameters,
    'signal_stop': signal_stop,
    'controller_killed': controller_killed,
}


def run_faults(names=None, model=None, workdir=None, log=None):
    """Run the scenarios (all by default); {'scenarios': [...], 'survived': n, 'total': n}."""
    results = []
    for name in names or SCENARIOS:
        if log:
            log(f'fault scenario {name} ...')
        kwargs = {'model': model} if model is not None else {}
        if workdir is not None:
            kwargs['workdir'] = Path(workdir) / name
        result = run_scenario(name, SCENARIOS[name], **kwargs)
        if log:
            log(f'  {"survived" if result["survived"] else "NOT SURVIVED"} '
                f'({result["seconds"]} s)')
        results.append(result)
    return {'scenarios': results, 'survived': sum(r['survived'] for r in results),
            'total': len(results)}
