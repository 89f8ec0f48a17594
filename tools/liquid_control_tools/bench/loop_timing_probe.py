"""Loop timing probe: the controller node's loop against a plain rclpy timer, in one run.

    python -m liquid_control_tools.bench.loop_timing_probe --model cartpole_cfc [--rates 100 1000]
        [--duration 5] [--rounds 2] [--load 0] [--busy-wait-us 500] [--fixed-busy-wait]
        [--thread-priority 50] [--timer-priority 0] [--subjects node timer bare c_loop]

For each rate it alternates its subjects, each in its own process under the same conditions:
  node    controller_node's ControllerNode (wall-clock loop thread, see loop.py)
  timer   a plain rclpy node: a timer callback at the same rate that steps the same model and
          publishes, with the same subscription in the same executor
  bare    the floor in Python: loop.WallClockLoop alone in a process without rclpy, with the
          same scheduling and busy-wait, its tick stepping the same model
  c_loop  the floor in C (c_loop.c, built with the system's compiler when there is one): the
          same schedule, sleep-then-spin and adaptive margin, nothing else
while this process publishes sensor_msgs/JointState at the control rate (sensor traffic), and
optionally `--load` busy processes compete for the cores. Each subject reports the period
error |interval - k * period| of its tick start times and its missed ticks (loop.period_errors,
the definition diagnostics use), its tick duration (the node: and its parts) and its CPU
time. Topics live under the /loop_timing_probe namespace. It prints figures; it is not a test.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

NAMESPACE = '/loop_timing_probe'
WARMUP_S = 1.0                    # measured from the first sensor message on
TRAFFIC_TIMEOUT_S = 10.0
DEFAULT_THREAD_PRIORITY = 50      # the node's thread_priority default


# -- subjects (child processes) -------------------------------------------------------------------
def _run_node_subject(args):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter

    from liquid_control.control.loop import SWITCH_INTERVAL_S, TickStats
    from liquid_control.control.params import read_params_file
    from liquid_control.nodes.controller_node import ControllerNode
    from liquid_control.tasks import get_task

    sys.setswitchinterval(SWITCH_INTERVAL_S)     # as controller_node's main()
    rclpy.init()
    stats = TickStats(keep_history=True)
    values = read_params_file(get_task('cartpole').params_file, 'liquid_controller')
    values.update(model=args.model, control_rate_hz=float(args.rate), sensor_timeout_s=1.0,
                  busy_wait_us=int(args.busy_wait_us),
                  thread_priority=int(args.thread_priority),
                  busy_wait_adaptive=not args.fixed_busy_wait)
    overrides = [Parameter(name, value=value) for name, value in values.items()]
    node = ControllerNode(namespace=NAMESPACE, parameter_overrides=overrides, tick_stats=stats)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    # As controller_node's main(): the executor on its own thread, the main thread idle.
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    start = _wait_for_traffic(lambda: node.diagnostics_snapshot()['received'])
    cpu = _measured_sleep(args.duration)
    executor.shutdown(timeout_sec=5.0)
    spinner.join(5.0)
    history = [h for h in stats.history if h[0] >= start]
    received = node.diagnostics_snapshot()['received']
    node.shutdown_safely()
    node.destroy_node()
    rclpy.try_shutdown()
    return history, received, cpu


def _run_bare_subject(args):
    from liquid_control.control.loop import SWITCH_INTERVAL_S, TickStats, WallClockLoop
    from liquid_control.runtime import load_controller, resolve_model

    sys.setswitchinterval(SWITCH_INTERVAL_S)
    session = load_controller(resolve_model(args.model))
    obs = [0.0] * session.metadata.n_obs
    stats = TickStats(keep_history=True)
    loop = WallClockLoop(lambda now, dt: session.step(obs, dt), 1.0 / args.rate,
                         args.busy_wait_us * 1e-6, stats, priority=args.thread_priority,
                         adaptive=not args.fixed_busy_wait)
    loop.start()
    cpu = _measured_sleep(args.duration)
    loop.stop()
    return stats.history, 0, cpu


def _run_timer_subject(args):
    import numpy as np
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from liquid_control.control.loop import monotonic_ns
    from liquid_control.runtime import load_controller, resolve_model

    rclpy.init()
    node = rclpy.create_node('plain_timer_controller', namespace=NAMESPACE)
    session = load_controller(resolve_model(args.model))
    n_obs = session.metadata.n_obs
    latest = {'obs': np.zeros(n_obs)}
    received = [0]

    def on_joint_state(msg):
        values = list(msg.position) + list(msg.velocity)
        latest['obs'] = np.array(values[:n_obs] + [0.0] * (n_obs - len(values[:n_obs])))
        received[0] += 1

    node.create_subscription(JointState, 'joint_states', on_joint_state,
                             qos_profile_sensor_data)
    pub = node.create_publisher(Float64MultiArray, 'effort_controller/commands', 10)
    history = []
    previous = [None]
    period = 1.0 / args.rate

    def on_timer():
        now = monotonic_ns()
        dt = (now - previous[0]) / 1e9 if previous[0] is not None else period
        previous[0] = now
        action = session.step(latest['obs'], dt)
        pub.publish(Float64MultiArray(data=[float(v) for v in action]))
        history.append((now, monotonic_ns() - now, None))

    node.create_timer(period, on_timer)
    if args.timer_priority > 0:
        # The whole process (its executor runs the timer) at this SCHED_FIFO priority.
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(args.timer_priority))
        except OSError as exc:
            print(f'timer subject: SCHED_FIFO not permitted ({exc.strerror})', file=sys.stderr)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    # Until the sensor publisher is matched (DDS discovery takes 0-3 s here), then measure.
    deadline = time.monotonic() + TRAFFIC_TIMEOUT_S
    while received[0] == 0 and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.01)
    start = monotonic_ns()
    end = time.monotonic() + WARMUP_S
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.1)
    cpu = _CpuWindow()
    end = time.monotonic() + args.duration
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.1)
    cpu = cpu.percent()
    node.destroy_node()
    rclpy.try_shutdown()
    return [h for h in history if h[0] >= start], received[0], cpu


def _wait_for_traffic(received, timeout=None):
    """Wait until received() > 0 (the sensor publisher is matched); return the time, ns."""
    from liquid_control.control.loop import monotonic_ns
    deadline = time.monotonic() + (timeout or TRAFFIC_TIMEOUT_S)
    while received() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    return monotonic_ns()


CHILDREN = {'node': _run_node_subject, 'timer': _run_timer_subject, 'bare': _run_bare_subject}


def _child(args):
    from liquid_control.control.loop import summarize
    history, received, cpu = CHILDREN[args.child](args)
    if history:
        start = history[0][0] + int(WARMUP_S * 1e9)   # history begins at the first message
        history = [h for h in history if h[0] >= start]
    parts = [h[2] for h in history if h[2] is not None]
    result = summarize([h[0] for h in history], int(1e9 / args.rate), [h[1] for h in history],
                       parts or None)
    result['received'] = received
    result['expected_ticks'] = int(args.duration * args.rate)
    result['cpu_percent'] = cpu
    print('RESULT ' + json.dumps({k: float(v) for k, v in result.items()}), flush=True)


class _CpuWindow:
    """CPU time of this process (all threads) from now on, as % of one core."""

    def __init__(self):
        self.wall, self.cpu = time.monotonic(), time.process_time()

    def percent(self):
        wall = time.monotonic() - self.wall
        return 100.0 * (time.process_time() - self.cpu) / max(wall, 1e-9)


def _measured_sleep(duration):
    """Sleep through the warm-up, then `duration` s; the CPU % of that second part."""
    time.sleep(WARMUP_S)
    window = _CpuWindow()
    time.sleep(duration)
    return window.percent()


# -- the C loop ---------------------------------------------------------------------------------
C_SOURCE = Path(__file__).with_name('c_loop.c')


def build_c_loop(directory=None):
    """Compile c_loop.c with the system's C compiler; the binary's path, or None without
    one (or when it fails: the reason is printed)."""
    compiler = shutil.which('cc') or shutil.which('gcc') or shutil.which('clang')
    if compiler is None:
        return None
    out = Path(directory or tempfile.mkdtemp(prefix='c_loop_')) / 'c_loop'
    built = subprocess.run([compiler, '-O2', '-o', str(out), str(C_SOURCE)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        print(f'c_loop: {compiler} failed: {built.stderr.strip()}', file=sys.stderr)
        return None
    return out


def run_c_loop(binary, rate, args):
    """One run of the C loop; the same summary as the Python subjects'."""
    from liquid_control.control.loop import summarize
    cmd = [str(binary), str(rate), str(int(args.busy_wait_us)),
           '0' if getattr(args, 'fixed_busy_wait', False) else '1',
           str(getattr(args, 'thread_priority', DEFAULT_THREAD_PRIORITY)),
           str(WARMUP_S + args.duration)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 30,
                         check=True)
    stamps, cpu, wall = [], 0.0, 1.0
    for line in out.stdout.splitlines():
        if line.startswith('cpu '):
            user, system, wall = (float(v) for v in line.split()[1:])
            cpu = user + system
        elif line[:1].isdigit():
            stamps.append(int(line))
    if stamps:
        start = stamps[0] + int(WARMUP_S * 1e9)
        stamps = [t for t in stamps if t >= start]
    result = summarize(stamps, int(1e9 / rate))
    result.update(received=0.0, expected_ticks=int(args.duration * rate),
                  cpu_percent=100.0 * cpu / max(wall, 1e-9))
    return result


# -- the parent: sensor traffic, load, alternation ------------------------------------------------
def _sensor_publisher(rate, stop):
    import rclpy
    from sensor_msgs.msg import JointState

    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('loop_timing_probe_sensors', namespace=NAMESPACE, context=context)
    pub = node.create_publisher(JointState, 'joint_states', 10)
    msg = JointState(name=['slider_to_cart', 'cart_to_pole'])
    period = 1.0 / rate
    next_t = time.monotonic()
    k = 0
    while not stop.is_set():
        k += 1
        msg.position = [0.01 * (k % 100), 3.0]
        msg.velocity = [0.0, 0.1]
        pub.publish(msg)
        next_t += period
        delay = next_t - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        else:
            next_t = time.monotonic()
    node.destroy_node()
    rclpy.shutdown(context=context)


def _burn(stop_at):
    while time.time() < stop_at:
        pass


def run_subject(subject, rate, args):
    """Run one subject process; args needs model, duration, busy_wait_us (thread_priority
    and timer_priority default to the node's default and normal scheduling; the c_loop
    subject needs c_loop, the built binary)."""
    if subject == 'c_loop':
        return run_c_loop(args.c_loop, rate, args)
    thread_priority = getattr(args, 'thread_priority', DEFAULT_THREAD_PRIORITY)
    timer_priority = getattr(args, 'timer_priority', 0)
    fixed = ['--fixed-busy-wait'] if getattr(args, 'fixed_busy_wait', False) else []
    cmd = [sys.executable, '-m', 'liquid_control_tools.bench.loop_timing_probe', '--child', subject,
           '--rate', str(rate), '--duration', str(args.duration), '--model', args.model,
           '--busy-wait-us', str(args.busy_wait_us), '--thread-priority',
           str(thread_priority), '--timer-priority', str(timer_priority)] + fixed
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 60,
                         env=dict(os.environ, RCUTILS_LOGGING_SEVERITY_THRESHOLD='WARN'))
    for line in out.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    raise RuntimeError(f'{subject} at {rate} Hz failed:\n{out.stdout}\n{out.stderr}')


def format_row(rate, subject, r):
    return (f'{rate:>6g}  {subject:<6} {r["ticks"]:>7.0f} {r["missed"]:>7.0f} '
            f'{100.0 * r["missed"] / max(r["expected_ticks"], 1):>7.2f} '
            f'{r.get("period_error_p50_us", float("nan")):>8.1f} '
            f'{r.get("period_error_p99_us", float("nan")):>8.1f} '
            f'{r.get("period_error_max_us", float("nan")):>9.1f} '
            f'{r.get("tick_time_p50_us", float("nan")):>8.1f} {r["received"]:>8.0f} '
            f'{r["cpu_percent"]:>6.1f}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', default='cartpole_cfc',
                        help='model name or path with the cart-pole obs names')
    parser.add_argument('--rates', type=float, nargs='+', default=[100.0, 1000.0])
    parser.add_argument('--duration', type=float, default=5.0, help='seconds per subject run')
    parser.add_argument('--rounds', type=int, default=2, help='node/timer alternations')
    parser.add_argument('--load', type=int, default=0, help='busy processes during the runs')
    parser.add_argument('--busy-wait-us', type=int, default=500)
    parser.add_argument('--thread-priority', type=int, default=DEFAULT_THREAD_PRIORITY,
                        help="the node's thread_priority parameter (0 = normal scheduling)")
    parser.add_argument('--fixed-busy-wait', action='store_true',
                        help='the node with busy_wait_adaptive false')
    parser.add_argument('--timer-priority', type=int, default=0,
                        help='SCHED_FIFO priority of the plain timer process (0 = normal)')
    parser.add_argument('--subjects', nargs='+', choices=tuple(CHILDREN) + ('c_loop',),
                        default=list(CHILDREN) + ['c_loop'], help='what to run (default all)')
    parser.add_argument('--child', choices=tuple(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument('--rate', type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0

    print(f'loop timing probe: model {args.model}, {args.duration:g} s per run, '
          f'{args.rounds} round(s), {args.load} load process(es), busy_wait_us '
          f'{args.busy_wait_us} ({"fixed" if args.fixed_busy_wait else "adaptive"}), node '
          f'thread_priority {args.thread_priority}, timer priority {args.timer_priority}, '
          f'sensor traffic at the control rate; cores: {os.cpu_count()}')
    print(f'{"rate":>6}  {"loop":<6} {"ticks":>7} {"missed":>7} {"miss%":>7} '
          f'{"p50 us":>8} {"p99 us":>8} {"max us":>9} {"tick us":>8} {"sensors":>8} {"cpu %":>6}')
    results = {}
    args.c_loop = build_c_loop() if 'c_loop' in args.subjects else None
    subjects = tuple(s for s in args.subjects if s != 'c_loop' or args.c_loop)
    for rate in args.rates:
        stop = threading.Event()
        sensors = threading.Thread(target=_sensor_publisher, args=(rate, stop), daemon=True)
        sensors.start()
        burners = [multiprocessing.Process(
            target=_burn, args=(time.time() + args.rounds * 2 * (args.duration + 10),),
            daemon=True) for _ in range(args.load)]
        for b in burners:
            b.start()
        try:
            for _ in range(args.rounds):
                for subject in subjects:
                    r = run_subject(subject, rate, args)
                    results.setdefault((rate, subject), []).append(r)
                    print(format_row(rate, subject, r), flush=True)
        finally:
            stop.set()
            sensors.join(5)
            for b in burners:
                b.terminate()
    return 0


if __name__ == '__main__':
    sys.exit(main())
