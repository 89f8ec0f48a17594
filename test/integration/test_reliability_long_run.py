"""LONG RUN, CI VERSION: 60 seconds of the closed loop at 500 Hz (sim_node + controller_node as
separate processes over DDS; tools/liquid_control_tools/reliability/longrun.py). The bench
(`liquid-control reliability --long 1800`) runs the same for 30 minutes.

This one test takes about 70 s; it is marked `long`: `pytest -m "not long"` leaves it out.

Asserted here: the loop ran the whole minute, both processes alive, every command finite and
within the limits, the controller's resident memory grew <= 5 MB after the warm-up, the
step time stayed stable, the simulator never lost its commands, a clean exit on SIGINT.
Timing under other processes' load (bursts of missed ticks, watchdog trips) is reported in
the output, not asserted: on a shared 2-core machine it measures the neighbours as much as
the node; docs/reliability.md judges it from the bench run with the load recorded.
"""
import json

import pytest

from liquid_control.runtime.model_paths import source_models_dir
from liquid_control_tools.reliability.longrun import run_long


@pytest.mark.long
def test_long_run_60s_closed_loop_at_500hz(tmp_path):
    shipped = source_models_dir() / 'cartpole_cfc.onnx'
    result = run_long(duration_s=60.0, rate_hz=500.0,
                      model=shipped if shipped.is_file() else None, workdir=tmp_path,
                      warmup_s=10.0, reset_every_s=20.0)
    series = result.pop('series', None)
    print(json.dumps(result, indent=1))
    print('per-second controller RSS (MB):', series and series['rss_controller_mb'])
    failed = [c for c in result['checks'] if c['required'] and not c['ok']]
    assert result['survived'], json.dumps({'failed': failed, 'logs': result.get('logs')},
                                          indent=1)
    # The command rate is the machine's figure (printed above); the run must have kept
    # controlling throughout, which a tenth of the nominal count shows on any load.
    assert result['commands'] > 0.1 * 500 * 60
