"""`make mutation` end to end on a small project: mutmut runs, and the records it leaves are
read back into counts, a score and the surviving mutants with their diffs, which the
reliability document renders."""
import textwrap

import pytest

pytest.importorskip('mutmut')

from liquid_control_tools.reliability.mutation import run_mutation
from liquid_control_tools.reliability.report import _mutation

MODULE = '''
def command(value, gain, limit):
    out = value * gain
    if out > limit:
        return limit
    return out


def never_tested(value):
    return value * 2 + 1
'''

TESTS = '''
from limiter import command


def test_command():
    assert command(1.0, 3.0, 10.0) == 3.0
    assert command(4.0, 3.0, 10.0) == 10.0
'''


def test_mutation_run_is_read_back_into_a_score_and_survivors(tmp_path):
    (tmp_path / 'limiter').mkdir()
    (tmp_path / 'limiter' / '__init__.py').write_text(MODULE)
    (tmp_path / 'tests').mkdir()
    (tmp_path / 'tests' / 'test_limiter.py').write_text(TESTS)
    (tmp_path / 'setup.cfg').write_text(textwrap.dedent('''
        [mutmut]
        source_paths = limiter/
        pytest_add_cli_args =
            -p
            no:randomly
        pytest_add_cli_args_test_selection = tests/
        '''))
    result = run_mutation(log=lambda _: None, max_children=1, root=tmp_path)

    counts = result['files']['limiter/__init__.py']
    assert sum(counts.values()) == result['total'] > 0
    # command's test catches some of its mutants; never_tested's have no test at all.
    assert result['caught'] >= 1
    untested = [s for s in result['survivors'] if 'never_tested' in s['key']]
    assert untested and all(s['status'] == 'no tests' for s in untested)
    for survivor in result['survivors']:
        assert survivor['diff'].count('\n-') >= 1 and survivor['diff'].count('\n+') >= 1
    assert result['caught'] + result['survived'] + result['equivalent'] == result['total']
    assert 0.0 < result['score'] < 1.0

    text = '\n'.join(_mutation({**result, 'run_at': 'now', 'run_seconds': 1.0}))
    assert all(s['key'] in text for s in result['survivors'])
    assert f'{100 * result["score"]:.1f}%' in text
