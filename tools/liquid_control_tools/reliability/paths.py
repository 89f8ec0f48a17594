"""What a long nav_msgs/Path costs the diff-drive node to receive.

Figures per path length: the time rclpy takes to turn the serialized path into Python message
objects (what the node's executor thread did for every /plan message, holding the GIL in
slices of the interpreter's switch interval), the time the node's own decoder of the
serialized path takes (raw_messages.PathView, what it does now), and the ticks the node's
wall-clock loop
misses at 200 Hz while such a path arrives (node in this process; the path published by the
driver in this process too, so serializing it competes for the GIL as well), with Python's
default GIL switch interval and with the shorter one controller_node's main() sets.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

SIZES = (1000, 5000, 20000)


def deserialize_ms(n, repeats=3):
    """(rclpy's deserialisation ms, the node's decoder ms, bytes) for a path of n poses."""
    from nav_msgs.msg import Path as PathMsg
    from rclpy.serialization import deserialize_message, serialize_message

    from liquid_control.control.raw_messages import PathView

    from .oracle import build_path
    data = serialize_message(build_path({'points': [(0.01 * i, 0.0) for i in range(n)],
                                         'frame': 'odom'}))

    def median_ms(decode):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            decode(data)
            times.append((time.perf_counter() - start) * 1e3)
        return statistics.median(times)
    return median_ms(lambda d: deserialize_message(d, PathMsg)), median_ms(PathView), len(data)


def missed_ticks_while_receiving(sizes=SIZES, rate_hz=200.0):
    from .fuzz import FuzzRun, straight_path
    from .models import probe_model
    model = probe_model(Path(tempfile.mkdtemp(prefix='liquid_control_paths_')) / 'dd.onnx',
                        'diffdrive')
    run = FuzzRun('diffdrive', model, rate_hz=rate_hz)
    out = {}
    try:
        loop = run.nut.node._loop
        for n in sizes:
            spec = {'points': [(0.01 * i, 0.0) for i in range(n)], 'frame': 'odom'}
            before = loop.missed
            start = time.monotonic()
            ok, accepted = run._install_path(spec)
            out[n] = {'missed_ticks': loop.missed - before, 'accepted': accepted,
                      'seconds_to_take': round(time.monotonic() - start, 3)}
            run._install_path(straight_path(), known_good=True)
    finally:
        run.close()
    return out


def run_path_cost(sizes=SIZES):
    """Deserialization time per size, and missed ticks with Python's default GIL switch
    interval (5 ms) and with the one controller_node's main() sets."""
    from liquid_control.control.loop import SWITCH_INTERVAL_S
    result = {'node_switch_interval_ms': SWITCH_INTERVAL_S * 1e3, 'sizes': {}}
    for n in sizes:
        ms, decode_ms, size = deserialize_ms(n)
        result['sizes'][n] = {'deserialize_ms': round(ms, 1), 'decode_ms': round(decode_ms, 2),
                              'bytes': size}
    previous = sys.getswitchinterval()
    try:
        for label, interval in (('default', 0.005), ('node', SWITCH_INTERVAL_S)):
            sys.setswitchinterval(interval)
            for n, figures in missed_ticks_while_receiving(sizes).items():
                result['sizes'][n][f'missed_ticks_{label}'] = figures['missed_ticks']
                result['sizes'][n][f'seconds_to_take_{label}'] = figures['seconds_to_take']
    finally:
        sys.setswitchinterval(previous)
    return result
