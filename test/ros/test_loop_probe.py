"""The loop timing probe runs end to end (a smoke test; it measures, it does not judge)."""
import argparse
import threading

import pytest

from liquid_control_tools.bench import loop_timing_probe as probe

from ros_fixtures import build_task_model

pytestmark = pytest.mark.slow   # seconds each (processes, training): not in the fast loop


def test_probe_measures_both_subjects_with_sensor_traffic(tmp_path):
    model = build_task_model(tmp_path / 'cartpole.onnx', 'cartpole', 'cfc')
    args = argparse.Namespace(model=str(model), duration=0.5, busy_wait_us=300)
    stop = threading.Event()
    sensors = threading.Thread(target=probe._sensor_publisher, args=(200.0, stop), daemon=True)
    sensors.start()
    try:
        results = {s: probe.run_subject(s, 200.0, args) for s in ('node', 'timer')}
    finally:
        stop.set()
        sensors.join(5)
    for subject, r in results.items():
        assert r['ticks'] > 50, (subject, r)
        assert r['received'] > 0, (subject, r)
        for key in ('missed', 'period_error_p50_us', 'period_error_p99_us', 'tick_time_p50_us'):
            assert key in r, (subject, key)
        assert probe.format_row(200.0, subject, r).split()[1] == subject
