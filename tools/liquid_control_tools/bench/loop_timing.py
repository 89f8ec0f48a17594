"""Control-loop timing at 100, 200 and 1000 Hz: the controller node's loop against its
floors (the same loop without rclpy, in Python and in C) and against a plain rclpy timer
node, in the same run, with sensor traffic.

Built on liquid_control_tools.bench.loop_timing_probe: each subject runs in its own process while
this process publishes JointState at the control rate:
  node         ControllerNode as shipped: its wall-clock loop thread, at the default
               thread_priority (SCHED_FIFO where the process may use it)
  node_normal  the same with thread_priority 0 (normal scheduling: what a user without
               real-time permission gets)
  timer        a plain rclpy node whose timer callback steps the same model and publishes,
               with the same subscription in its executor, normal scheduling
  bare         the floor: loop.WallClockLoop alone in a process without rclpy, the node's
               scheduling and busy-wait, its tick stepping the same model
  c_loop       the floor in C: the same schedule and busy-wait (when a compiler is present)
Subjects alternate (node, node_normal, timer, bare, c_loop, node, ...) so all meet the same
machine load. The node's targets are ratios to the bare loop of the same run.
Period error is |interval - k * period| of consecutive tick starts; missed ticks are the
k - 1 (loop.period_errors, the definition diagnostics use too).
"""
from __future__ import annotations

import argparse
import threading
import time

import numpy as np

from liquid_control.control.loop import TICK_PARTS

from .common import ros_environment
from .ros_harness import ros_env

RATES_HZ = (100.0, 200.0, 1000.0)
# name -> (probe subject, thread_priority or None for the node's default)
SUBJECTS = {'node': ('node', None), 'node_normal': ('node', 0), 'timer': ('timer', None),
            'bare': ('bare', None), 'c_loop': ('c_loop', None)}
NO_TRAFFIC = ('bare', 'c_loop')      # subjects without a subscription


def sched_fifo_permitted():
    """Whether a process here may switch a thread to SCHED_FIFO (the node's thread_priority)."""
    import subprocess
    import sys
    code = 'import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))'
    return subprocess.run([sys.executable, '-c', code], capture_output=True).returncode == 0


def _combine(runs):
    ticks = sum(r['ticks'] for r in runs)
    missed = sum(r['missed'] for r in runs)
    return {
        'runs': len(runs), 'ticks': ticks, 'missed': missed,
        'missed_percent': 100.0 * missed / max(ticks + missed, 1),
        # Percentiles of each run (thousands of ticks each), averaged over the runs.
        'p50_us': float(np.mean([r['period_error_p50_us'] for r in runs])),
        'p99_us': float(np.mean([r['period_error_p99_us'] for r in runs])),
        'max_us': float(np.max([r['period_error_max_us'] for r in runs])),
        'tick_p50_us': float(np.mean([r.get('tick_time_p50_us', np.nan) for r in runs])),
        'cpu_percent': float(np.mean([r['cpu_percent'] for r in runs])),
        **{f'tick_{part}_p50_us': float(np.mean([r[f'tick_{part}_p50_us'] for r in runs]))
           for part in TICK_PARTS if all(f'tick_{part}_p50_us' in r for r in runs)},
        'sensor_messages': sum(r['received'] for r in runs),
        'per_run_p99_us': [r['period_error_p99_us'] for r in runs],
        'reruns': sum(r['attempts'] - 1 for r in runs),
    }


def _run_with_traffic(probe, name, rate, args, ctx, attempts=4):
    """One subject run that had sensor traffic through its measuring window.

    Each subject process measures from 1 s after its start; DDS discovery between it and the
    sensor publisher must be done by then (config/fastdds_profile.xml makes it ~0.3 s). A run
    that received fewer than half the messages of its window (a loaded subscriber may drop
    some, best effort) measured partly an idle loop: run again.
    """
    needed = 0.5 * rate * args.duration
    subject, priority = SUBJECTS[name]
    run_args = argparse.Namespace(**vars(args))
    if priority is not None:
        run_args.thread_priority = priority
    for attempt in range(1, attempts + 1):
        result = probe.run_subject(subject, rate, run_args)
        if result['received'] >= needed or name in NO_TRAFFIC:
            result['attempts'] = attempt
            return result
        ctx.log(f'  {name} at {rate:g} Hz: sensor traffic started late '
                f'({result["received"]:.0f} messages); running it again')
    raise RuntimeError(f'{name} at {rate:g} Hz never had sensor traffic through its window')


def run(ctx):
    from . import loop_timing_probe as probe

    rates = RATES_HZ[-1:] if ctx.quick else RATES_HZ
    duration, rounds = (0.5, 1) if ctx.quick else (5.0, 2)
    model, source = ctx.model('cartpole', 'cfc')
    busy_wait_us = 500
    c_loop = probe.build_c_loop(ctx.scratch)
    subjects = tuple(name for name in (('node', 'timer', 'bare', 'c_loop') if ctx.quick
                                       else SUBJECTS)
                     if name != 'c_loop' or c_loop is not None)
    args = argparse.Namespace(model=str(model), duration=duration, busy_wait_us=busy_wait_us,
                              thread_priority=probe.DEFAULT_THREAD_PRIORITY, c_loop=c_loop)
    ctx.log(f'loop timing: node vs plain timer at {", ".join(f"{r:g}" for r in rates)} Hz, '
            f'{rounds} round(s) of {duration:g} s each ({source} CfC)')
    rows = []
    with ros_env(ros_environment()):    # the probe's processes and sensor thread use it
        for rate in rates:
            stop = threading.Event()
            sensors = threading.Thread(target=probe._sensor_publisher, args=(rate, stop),
                                       daemon=True)
            sensors.start()
            runs = {s: [] for s in subjects}
            time.sleep(1.0)     # the publisher's DDS participant is up before a subject starts
            try:
                for _ in range(rounds):
                    for name in subjects:
                        runs[name].append(_run_with_traffic(probe, name, rate, args, ctx))
            finally:
                stop.set()
                sensors.join(5)
            row = {'rate_hz': rate}
            for name in subjects:
                row[name] = _combine(runs[name])
            ratios = [t['period_error_p99_us'] / max(n['period_error_p99_us'], 1e-3)
                      for n, t in zip(runs['node'], runs['timer'])]
            row['p99_ratio'] = row['timer']['p99_us'] / max(row['node']['p99_us'], 1e-3)
            row['p99_ratio_per_round'] = ratios
            row.update(floor_ratios(row['node'], row['bare']))
            node = row['node']
            if 'tick_model_step_p50_us' in node:
                row['tick_to_model_step'] = node['tick_p50_us'] / node['tick_model_step_p50_us']
            rows.append(row)
            ctx.log(f'  {rate:g} Hz: node p99 {node["p99_us"]:.1f} us, missed '
                    f'{node["missed_percent"]:.2f}%; bare loop p99 '
                    f'{row["bare"]["p99_us"]:.1f} us, missed '
                    f'{row["bare"]["missed_percent"]:.2f}%; timer p99 '
                    f'{row["timer"]["p99_us"]:.1f} us, missed '
                    f'{row["timer"]["missed_percent"]:.2f}%'
                    + (f'; C loop p99 {row["c_loop"]["p99_us"]:.1f} us' if 'c_loop' in row
                       else ''))
    return {'model_source': source, 'duration_s': duration, 'rounds': rounds,
            'busy_wait_us': busy_wait_us, 'thread_priority': probe.DEFAULT_THREAD_PRIORITY,
            'sched_fifo_permitted': sched_fifo_permitted(), 'subjects': list(subjects),
            'c_compiler': c_loop is not None, 'rows': rows}


# Below this p99 (us) or share of missed ticks (%), a floor is read as this value: a ratio
# to a floor of 0 (no missed tick in the run) says nothing.
P99_RESOLUTION_US = 1.0
MISSED_RESOLUTION_PERCENT = 0.05


def floor_ratios(node, bare):
    """The node against the bare loop of the same run: p99 and missed-tick ratios."""
    return {
        'p99_to_bare': node['p99_us'] / max(bare['p99_us'], P99_RESOLUTION_US),
        'missed_to_bare': (max(node['missed_percent'], MISSED_RESOLUTION_PERCENT)
                           / max(bare['missed_percent'], MISSED_RESOLUTION_PERCENT)),
    }
