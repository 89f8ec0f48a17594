"""End-to-end latency: a sensor message published in one process -> the command the
controller node (another process) computes from it, received back over DDS, at 500 Hz.

The node runs an echo copy of the CfC controller (ros_harness.echo_model: full model cost,
command = the message's sequence number), so every command names the message it came from.
Latency = DDS receive timestamp of the first command carrying a message's number minus the
time just before that message was published (both CLOCK_REALTIME, one host).

The node is a fixed-rate loop: a message waits for the next tick, anywhere from 0 to one
period (2 ms). The publisher runs at 500 Hz x (1 + 1/N), so its phase against the node's
ticks sweeps the whole period evenly during the run. Two figures come out of the one run:
  unsynchronised  every message: what a sensor free-running beside the loop sees
  phase-aligned   the messages in the best 1/PHASE_BINS of the period (published just before
                  a tick): the reaction of the pipeline itself (DDS in, take, step, publish,
                  DDS out), as a sensor synchronised to the control loop would see it
Then the same node with `trigger: sensor` (each message ticks at once) gets the same stream:
  sensor-triggered  every message, no wait for a tick
and, as the floor, a bare rclpy echo (echo_node: its JointState callback publishes at once):
  echo              two DDS hops between Python processes and rclpy's callback, nothing else
The ratios to the echo's median say what the controller adds to what any rclpy node pays.
"""
from __future__ import annotations

import numpy as np

from .common import percentiles, ros_environment
from .ros_harness import Traffic, controller_process, echo_model, echo_process, latencies

RATE_HZ = 500.0
PHASE_BINS = 20


def phase_analysis(published, e2e_ns, period_ns, bins=PHASE_BINS):
    """Median e2e per phase bin (phase of the publish time modulo the node's period), and the
    e2e samples of the best bin."""
    mono = np.array([p[2] for p in published], dtype=np.int64)
    phase = (mono % period_ns) / period_ns
    idx = np.minimum((phase * bins).astype(int), bins - 1)
    ok = np.isfinite(e2e_ns)
    medians = np.full(bins, np.nan)
    counts = np.zeros(bins, dtype=int)
    for b in range(bins):
        sel = ok & (idx == b)
        counts[b] = int(sel.sum())
        if counts[b]:
            medians[b] = float(np.median(e2e_ns[sel]))
    best = int(np.nanargmin(medians)) if np.isfinite(medians).any() else 0
    return medians, counts, best, e2e_ns[ok & (idx == best)]


def measure(process, env, seconds, publish_period):
    """The sensor stream through one node process (a bringup NodeProcess, started);
    returns the Traffic."""
    traffic = Traffic(env)
    try:
        with process as node:
            if not traffic.wait_matched(node=node):
                raise RuntimeError(f'{node.name} did not come up:\n{node.tail()}')
            traffic.run(1.0, 1.0 / RATE_HZ)                     # warm-up, not recorded
            traffic.run(seconds, publish_period, record=True)
    finally:
        traffic.close()
    return traffic


def run(ctx):
    seconds = 2.0 if ctx.quick else 24.0
    sweeps = 1 if ctx.quick else 3
    messages = int(seconds * RATE_HZ)
    # After `messages / sweeps` messages the publisher has gained exactly one node period.
    publish_period = (1.0 / RATE_HZ) * (1.0 - sweeps / messages)
    src, source = ctx.model('cartpole', 'cfc')
    model = echo_model(src, ctx.scratch / 'cartpole_cfc_echo.onnx')
    env = ros_environment()
    ctx.log(f'e2e latency: controller_node at {RATE_HZ:g} Hz ({source} CfC, echo), '
            f'{messages} sensor messages over {seconds:g} s')
    echo = measure(echo_process(env, ctx.scratch / 'e2e_echo.log'), env, seconds,
                   publish_period)
    traffic = measure(controller_process(model, RATE_HZ, env, ctx.scratch / 'e2e_node.log'),
                      env, seconds, publish_period)
    triggered = measure(controller_process(model, RATE_HZ, env,
                                           ctx.scratch / 'e2e_node_sensor.log',
                                           trigger='sensor'),
                        env, seconds, publish_period)
    sensor_e2e, _ = latencies(triggered.published, triggered.commands)
    sensor_ok = np.isfinite(sensor_e2e)
    echo_e2e, _ = latencies(echo.published, echo.commands)
    echo_ok = np.isfinite(echo_e2e)
    if not echo_ok.any():
        raise RuntimeError('the echo answered no sensor message')
    e2e, unmatched = latencies(traffic.published, traffic.commands)
    period_ns = int(1e9 / RATE_HZ)
    medians, counts, best, aligned = phase_analysis(traffic.published, e2e, period_ns)
    ok = np.isfinite(e2e)
    if not ok.any():
        raise RuntimeError('no command could be matched to a sensor message')
    result = {
        'rate_hz': RATE_HZ, 'seconds': seconds, 'model_source': source,
        'messages': len(traffic.published), 'commands': len(traffic.commands),
        'answered': int(ok.sum()), 'superseded': int((~ok).sum()),
        'unmatched_commands': unmatched,
        'unsynchronised_us': dict(percentiles(e2e[ok] / 1e3, (1, 50, 99)),
                                  max=float(np.nanmax(e2e) / 1e3)),
        'aligned_us': percentiles(aligned / 1e3, (1, 50, 99)),
        'phase_bins': PHASE_BINS, 'best_bin': best,
        'bin_median_us': (medians / 1e3).tolist(), 'bin_counts': counts.tolist(),
        'samples_us': (e2e[ok] / 1e3).tolist() if not ctx.quick else [],
        'sensor_trigger_us': (percentiles(sensor_e2e[sensor_ok] / 1e3, (1, 50, 99))
                              if sensor_ok.any() else None),
        'sensor_trigger_answered': int(sensor_ok.sum()),
        'echo_us': percentiles(echo_e2e[echo_ok] / 1e3, (1, 50, 99)),
        'echo_answered': int(echo_ok.sum()),
    }
    floor = result['echo_us']['p50']
    result['aligned_to_echo_p50'] = result['aligned_us']['p50'] / floor
    if result['sensor_trigger_us']:
        result['sensor_trigger_to_echo_p50'] = result['sensor_trigger_us']['p50'] / floor
    ctx.log(f'  unsynchronised p50 {result["unsynchronised_us"]["p50"]:.0f} us, p99 '
            f'{result["unsynchronised_us"]["p99"]:.0f} us; phase-aligned p50 '
            f'{result["aligned_us"]["p50"]:.0f} us, p99 {result["aligned_us"]["p99"]:.0f} us '
            f'({result["answered"]}/{result["messages"]} messages answered)'
            + (f'; sensor-triggered p50 {result["sensor_trigger_us"]["p50"]:.0f} us, p99 '
               f'{result["sensor_trigger_us"]["p99"]:.0f} us' if result['sensor_trigger_us']
               else '')
            + f'; bare echo p50 {floor:.0f} us, p99 {result["echo_us"]["p99"]:.0f} us')
    return result
