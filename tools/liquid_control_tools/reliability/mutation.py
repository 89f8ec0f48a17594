"""Mutation testing of the safety core: every small change mutmut makes to the runtime
session, the contract, integrity, observation gathering, the action sink, the watchdog and the
control core must make a fast test fail.

What is mutated and which tests judge it is setup.cfg's [mutmut] section (the fast tests,
`-m "not slow"`). mutmut copies the tree into mutants/ and runs the tests that reach each
mutated function; this module runs it, then reads its records: counts per file, and every
surviving mutant with its diff and, where one is argued equivalent (no test could tell it
from the original), why. The score counts a mutant as caught when a test failed or hung on it.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys

from .harness import REPO

CAUGHT = ('killed', 'timeout', 'segfault')

# Survivors that behave exactly as the original: mutmut's mutant name -> (text of its
# mutated line, why). The text ties the argument to the change it was made for: when code
# moves and a name comes to mean another change, that mutant counts as surviving again.
_FLOATS = ('the values are Python floats (rosidl fields of type float64), so numpy makes float64 '
           'without being told; and gather copies them into the float32 observation either way')
_READ_FLOATS = ('the fields read are float64 in the message (rosidl), so numpy makes float64 '
                'without being told')
_OBS = 'liquid_control.control.observations.'
_ACT = 'liquid_control.control.actions.'
_RAW = 'liquid_control.control.raw_messages.'
EQUIVALENT = {
    _OBS + 'xǁArrayExtractorǁ__call____mutmut_6': ('dtype=None', _FLOATS),
    _OBS + 'xǁArrayExtractorǁ__call____mutmut_8': ('self._index], )', _FLOATS),
    _OBS + 'xǁAttributeExtractorǁ__call____mutmut_8': ('dtype=None', _FLOATS),
    _OBS + 'xǁAttributeExtractorǁ__call____mutmut_10': (')', _FLOATS),
    _OBS + 'xǁArrayExtractorǁ__init____mutmut_6': (
        "rpartition('.')", 'with one dot both split alike; with more, partition leaves a dot in '
        'the index and rpartition one in the head, and both are refused'),
    _OBS + 'xǁAttributeExtractorǁ__call____mutmut_1': (
        'euler = ""', 'euler is indexed only by extractors with an orientation getter, which '
        'set it first'),
    _ACT + 'x_command_reader__mutmut_6': ('dtype=None', _READ_FLOATS),
    _ACT + 'x_command_reader__mutmut_8': ('np.asarray(msg.data, )', _READ_FLOATS),
    _ACT + 'x_command_reader__mutmut_19': ('dtype=None', _READ_FLOATS),
    _ACT + 'x_command_reader__mutmut_21': (')', _READ_FLOATS),
    _RAW + 'xǁOdometryViewǁ__init____mutmut_35': (
        'p[0:4]', '_xyz reads the first three values of the slice only'),
    _RAW + 'xǁOdometryViewǁ__init____mutmut_53': (
        't[0:4]', '_xyz reads the first three values of the slice only'),
    _RAW + 'xǁOdometryViewǁ__init____mutmut_56': (
        't[3:7]', '_xyz reads the first three values of the slice only'),
    _RAW + 'xǁ_Readerǁdoubles__mutmut_7': (
        '(self.pos + _HEADER_SIZE) & 7', 'pos - 4 and pos + 4 differ by 8: the same padding '
        'modulo 8'),
    _RAW + 'xǁ_Readerǁstring__mutmut_20': (
        ".decode(errors='replace')", 'UTF-8 is the codec bytes.decode uses by default'),
    _RAW + 'xǁ_Readerǁstring__mutmut_25': ("'UTF-8'", 'codec names are case-insensitive'),
}


def equivalence(key, diff):
    """Why the mutant `key` with this diff is equivalent, or None."""
    argued = EQUIVALENT.get(key)
    if argued is None:
        return None
    text, why = argued
    added = [line for line in diff.splitlines() if line.startswith('+')
             and not line.startswith('+++')]
    return why if any(text in line for line in added) else None


def run_mutation(log=print, max_children=None, root=REPO):
    """Run mutmut over the safety core (resuming where a previous run stopped, re-testing
    what changed), then collect() its results. `root`: the project (its setup.cfg)."""
    max_children = max_children or max(1, os.cpu_count() or 1)
    log_path = root / 'runs' / 'mutation.log'
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log(f'mutation: mutmut run --max-children {max_children} (progress in {log_path})')
    with open(log_path, 'wb') as out:
        subprocess.run([sys.executable, '-m', 'mutmut', 'run', '--max-children',
                        str(max_children)], cwd=root, stdout=out, stderr=subprocess.STDOUT,
                       check=False)
    return collect(root)


def collect(root=REPO):
    """The results mutmut recorded in root/mutants/: per-file counts, the score, the
    survivors."""
    with contextlib.chdir(root):     # mutmut reads its setup.cfg and records from the cwd
        from mutmut.configuration import reset_config
        from mutmut.mutation.data import SourceFileMutationData
        from mutmut.mutation.diff_apply import get_diff_for_mutant
        from mutmut.stats import status_by_exit_code
        from mutmut.utils.file_utils import walk_mutatable_files

        reset_config()      # mutmut caches the configuration of the folder it first read
        files, survivors, mutant_seconds = {}, [], 0.0
        for path in walk_mutatable_files():
            data = SourceFileMutationData(path=path)
            data.load()
            mutant_seconds += sum(v for v in data.durations_by_key.values() if v)
            counts = files.setdefault(str(path), {})
            for key, exit_code in sorted(data.exit_code_by_key.items()):
                status = status_by_exit_code[exit_code]
                counts[status] = counts.get(status, 0) + 1
                if status not in CAUGHT:
                    diff = get_diff_for_mutant(key, path=path)
                    survivors.append({'key': key, 'file': str(path), 'status': status,
                                      'diff': diff, 'equivalent': equivalence(key, diff)})
    total = sum(sum(c.values()) for c in files.values())
    caught = sum(c.get(s, 0) for c in files.values() for s in CAUGHT)
    equivalent = sum(1 for s in survivors if s['equivalent'])
    judged = total - equivalent
    # mutant_seconds: every mutant's test run, summed: what a run from scratch costs on one
    # worker (mutmut resumes, so one run's own duration can be seconds).
    return {'files': files, 'total': total, 'caught': caught, 'equivalent': equivalent,
            'mutant_seconds': round(mutant_seconds, 1),
            'survived': len(survivors) - equivalent,
            'score': caught / judged if judged else None, 'survivors': survivors}
