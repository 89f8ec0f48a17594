"""CPU share (% of one core) and memory of the controller node process.

controller_node (the CfC cart-pole controller) runs in its own process with JointState
traffic at the control rate from this process; its rate and busy-wait are set between
windows through its parameters, as `ros2 param set` would. CPU = (utime + stime) of the node
process over each window / wall time, from /proc/<pid>/stat; memory = VmRSS at the end of the
window and VmHWM (peak) from /proc/<pid>/status. Each rate is measured with the loop's
default busy-wait (500 us of spinning before each deadline, longer when wake-ups come late:
the price of its timing) and with no busy-wait at all (busy_wait_us 0, busy_wait_adaptive
false: sleep only), to show what that spinning costs; the rows alternate between the two
settings (two rounds) so both meet the same machine load. The target is a ratio: at rates up
to 200 Hz the default costs at most 1.5 times the CPU of sleep-only.
"""
from __future__ import annotations

import time

from .common import ros_environment
from .ros_harness import ProcSampler, Traffic, controller_process

RATES_HZ = (100.0, 200.0, 1000.0)
BUSY_WAITS_US = (500, 0)
ROUNDS = 2


def run(ctx):
    seconds, settle = (1.0, 0.5) if ctx.quick else (10.0, 1.0)
    busy_waits = BUSY_WAITS_US
    model, source = ctx.model('cartpole', 'cfc')
    env = ros_environment()
    rows = []
    traffic = Traffic(env)
    try:
        first = RATES_HZ[0]
        with controller_process(model, first, env, ctx.scratch / 'cpu_node.log',
                         busy_wait_us=busy_waits[0]) as node:
            if not traffic.wait_matched(node=node):
                raise RuntimeError(f'controller_node did not come up:\n{node.tail()}')
            sampler = ProcSampler(node.pid)
            windows = [(b, r) for _ in range(1 if ctx.quick else ROUNDS) for r in RATES_HZ
                       for b in busy_waits]
            for busy_wait_us, rate in windows:
                traffic.set_node_parameters(control_rate_hz=float(rate),
                                            busy_wait_us=int(busy_wait_us),
                                            busy_wait_adaptive=busy_wait_us > 0)
                traffic.run(settle, 1.0 / rate)
                cpu0, wall0 = sampler.cpu_seconds(), time.monotonic()
                traffic.run(seconds, 1.0 / rate)
                cpu1, wall1 = sampler.cpu_seconds(), time.monotonic()
                memory = sampler.memory_kib()
                row = {'rate_hz': rate, 'busy_wait_us': busy_wait_us,
                       'busy_wait_adaptive': busy_wait_us > 0,
                       'seconds': wall1 - wall0,
                       'cpu_percent': 100.0 * (cpu1 - cpu0) / (wall1 - wall0),
                       'rss_mib': memory['VmRSS'] / 1024.0,
                       'peak_rss_mib': memory['VmHWM'] / 1024.0,
                       'threads': memory.get('Threads')}
                rows.append(row)
                ctx.log(f'  cpu/memory at {rate:g} Hz, busy_wait_us {busy_wait_us}: '
                        f'{row["cpu_percent"]:.0f}% of a core, RSS {row["rss_mib"]:.0f} MiB')
            if not node.alive:
                raise RuntimeError(f'controller_node exited:\n{node.tail()}')
    finally:
        traffic.close()
    # /proc's CPU times tick at 1/CLK_TCK (10 ms): over a window that is the resolution.
    return {'model_source': source, 'model': str(model), 'rows': combine(rows),
            'resolution_percent': 100.0 * 0.01 / seconds}


def combine(rows):
    """One row per (rate, busy-wait): CPU averaged over the rounds, memory at the last; and
    each default row's ratio to sleep-only at the same rate."""
    out = {}
    for row in rows:
        key = (row['rate_hz'], row['busy_wait_us'])
        if key in out:
            seen = out[key]
            seen['cpu_rounds'].append(row['cpu_percent'])
            seen.update({k: v for k, v in row.items() if k != 'cpu_percent'})
        else:
            out[key] = dict(row, cpu_rounds=[row['cpu_percent']])
    for row in out.values():
        row['cpu_percent'] = sum(row['cpu_rounds']) / len(row['cpu_rounds'])
    for (rate, busy_wait_us), row in out.items():
        sleep_only = out.get((rate, 0))
        if busy_wait_us and sleep_only:
            row['cpu_to_sleep_only'] = row['cpu_percent'] / max(sleep_only['cpu_percent'], 0.1)
    return list(out.values())
