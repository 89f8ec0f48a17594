"""Fuzzing the real controller node over DDS (hypothesis;
tools/liquid_control_tools/reliability/fuzz.py).

A few hundred cases per task here; `liquid-control reliability` runs thousands. Each case
sends bad and good sensor messages one at a time (each must be used or rejected exactly as
the independent oracle says) or as a burst far above the control rate, then good data,
which must be controlled on at once. Any crash, non-finite or out-of-limit command fails.
"""
import json

import pytest

from liquid_control.runtime.model_paths import source_models_dir
from liquid_control_tools.reliability.fuzz import run_fuzz
from liquid_control_tools.reliability.models import probe_model
from liquid_control_tools.reliability.suite import model_for as suite_model_for

pytestmark = pytest.mark.slow   # seconds each (processes, training): not in the fast loop

CASES = {'cartpole': 150, 'diffdrive': 100}


def model_for(task, tmp_path):
    """A shipped model of the task (CfC first) when one exists, else a probe model."""
    shipped, _ = suite_model_for(task, source_models_dir())
    return shipped or probe_model(tmp_path / f'{task}.onnx', task)


@pytest.mark.parametrize('task', ['cartpole', 'diffdrive'])
def test_fuzz_node_inputs(task, tmp_path):
    figures = run_fuzz(cases=CASES[task], task=task, model=model_for(task, tmp_path), seed=7)
    print(json.dumps(figures, indent=1))
    assert figures['failure'] is None, figures['failure']
    assert figures['cases'] >= CASES[task]
    assert figures['crashes'] == 0, figures['crash_reasons']
    assert figures['non_finite_commands'] == 0
    assert figures['out_of_limit_commands'] == 0
    assert figures['malformed_commands'] == 0
    assert figures['oracle_mismatches'] == 0, figures['mismatch_examples']
    assert figures['resume_failures'] == 0
    # Rejections were counted, and /diagnostics reports the node's count.
    assert figures['node_rejected_messages'] > 0
    assert figures['diagnostics_match'], (figures['diagnostics_rejected_messages'],
                                          figures['node_rejected_messages'])
    assert figures['burst_cases'] > 0 and figures['expected'].get('good', 0) > 0
