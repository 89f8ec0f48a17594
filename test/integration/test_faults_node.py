"""Fault scenarios with the controller and the simulator as separate processes over DDS
(tools/liquid_control_tools/reliability/faults.py): one test per scenario. A scenario
survives when all its checks hold; the failing checks and the processes' logs are in the
assertion message."""
import json

import pytest

from liquid_control_tools.reliability.faults import SCENARIOS, run_scenario


@pytest.mark.parametrize('name', list(SCENARIOS))
def test_fault_scenario(name, tmp_path):
    result = run_scenario(name, SCENARIOS[name], workdir=tmp_path)
    print(json.dumps(result, indent=1))
    failed = [c for c in result['checks'] if not c['ok']]
    assert result['survived'], json.dumps({'failed': failed, 'logs': result.get('logs')},
                                          indent=1)
    assert result['checks'], 'a scenario checks something'
