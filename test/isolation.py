"""What keeps test processes apart from everything else: the code they import, and the child
processes they leave (used by conftest.py)."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODE_UNDER_TEST = (REPO, REPO / 'tools')    # liquid_control and liquid_control_tools


def pinned_pythonpath(existing=''):
    """PYTHONPATH that imports the code under test first in every process a test starts,
    whatever else is on it (sourcing a ROS install puts its own site-packages there)."""
    rest = [p for p in existing.split(os.pathsep) if p and p not in map(str, CODE_UNDER_TEST)]
    return os.pathsep.join([str(p) for p in CODE_UNDER_TEST] + rest)


def descendants():
    """{pid: command line} of the live (not zombie) descendants of this process."""
    parents = {}
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / 'stat').read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(')') + 2:].split()
        if fields[0] != 'Z':
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    out = {}
    for pid in found:
        try:
            out[pid] = (Path('/proc') / str(pid) / 'cmdline').read_bytes().replace(
                b'\0', b' ').decode(errors='replace').strip()
        except OSError:
            pass
    return out
