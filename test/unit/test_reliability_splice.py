"""A partial reliability run (`make mutation`) on a machine without the other parts' results
rewrites its own section of docs/reliability.md, and those made from the code alone (the
findings, the CI tests), and keeps every other one as it was."""
from liquid_control_tools.reliability.report import FROM_CODE, _sections, render, splice

PREVIOUS = '''# Reliability and safety

intro

## Summary

| run | ... |

## 1. Fuzzing the node inputs

fuzz figures

## 2. Fault scenarios

### sensor_restart
fault figures

## Bugs and hazards found

bugs

## CI tests

ci
'''

MUTATION = {'files': {'liquid_control/control/watchdog.py': {'killed': 9, 'survived': 1}},
            'total': 10, 'caught': 9, 'equivalent': 0, 'survived': 1, 'score': 0.9,
            'run_at': 'then', 'run_seconds': 60.0,
            'survivors': [{'key': 'liquid_control.control.watchdog.x_fresh__mutmut_1',
                           'file': 'liquid_control/control/watchdog.py', 'status': 'survived',
                           'diff': '-    return age < limit\n+    return age <= limit',
                           'equivalent': None}]}


def test_the_run_parts_section_is_replaced_and_the_others_kept():
    once = splice(PREVIOUS, render({'mutation': MUTATION}), ['mutation'])
    old, new = _sections(PREVIOUS), _sections(once)
    for title in old:
        if title in FROM_CODE:
            assert new[title] != old[title] and new[title][0] == title, title
        else:
            assert new[title] == old[title], title
    titles = list(new)
    assert titles.index('## 5. Mutation testing') == titles.index('## Bugs and hazards found') - 1
    assert 'x_fresh__mutmut_1' in once and '90.0%' in once

    again = splice(once, render({'mutation': {**MUTATION, 'run_at': 'later'}}), ['mutation'])
    assert again.count('## 5. Mutation testing') == 1
    assert 'Run later' in again and 'Run then' not in again
    assert _sections(again)['## 2. Fault scenarios'] == old['## 2. Fault scenarios']
