"""Test-wide isolation for ROS 2: each pytest run gets its own DDS domain (from
TEST_DOMAINS, which the demo, benchmarks and reliability runs never draw), discovery stays on
this host, ROS logs go to a temporary folder removed at the end of the run, and PYTHONPATH
starts with this checkout, so every process a test starts runs the code under test. Set
before any test imports rclpy, and inherited by the processes tests start. A test module
that leaves a child process running fails (the process is killed): a leaked node would
otherwise answer on the topics of the modules after it.

Tests live in test/unit, test/ros and test/integration; each is marked with its folder's name
(markers registered in setup.cfg); tests of seconds each are marked `slow`, so
`pytest -m "not slow"` is the fast loop.
"""
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from liquid_control.bringup.processes import (TEST_DOMAINS, isolated_environment,
                                              private_domain_id)

from isolation import descendants, pinned_pythonpath

os.environ['PYTHONPATH'] = pinned_pythonpath(os.environ.get('PYTHONPATH', ''))
ROS_LOG_DIR = tempfile.mkdtemp(prefix='liquid_control_test_roslog_')
os.environ.update(isolated_environment(private_domain_id(domains=TEST_DOMAINS), ROS_LOG_DIR))
LEAK_GRACE_S = 10.0     # for processes already told to stop to finish exiting
# multiprocessing's resource tracker: started once by the first spawned process pool, it
# lives as long as the test process itself. Not a leak.
PROCESS_HELPERS = ('multiprocessing.resource_tracker',)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(ROS_LOG_DIR, ignore_errors=True)


@pytest.fixture(scope='module', autouse=True)
def no_leaked_processes():
    before = set(descendants())
    yield
    deadline = time.monotonic() + LEAK_GRACE_S
    leaked = {}
    while True:
        leaked = {pid: cmd for pid, cmd in descendants().items() if pid not in before
                  and not any(helper in cmd for helper in PROCESS_HELPERS)}
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.1)    # polling the process table: there is no event for "exited"
    for pid in leaked:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if leaked:
        pytest.fail('the module left child processes running (killed now): '
                    + '; '.join(f'{pid} {cmd[:120]}' for pid, cmd in leaked.items()))

KINDS = ('unit', 'ros', 'integration')


def pytest_collection_modifyitems(config, items):
    for item in items:
        kind = Path(str(item.fspath)).parent.name
        if kind in KINDS:
            item.add_marker(kind)
        # Multi-process runs, and anything marked long, are slow as well.
        if kind == 'integration' or item.get_closest_marker('long'):
            item.add_marker('slow')
    if os.environ.get('MUTANT_UNDER_TEST'):
        # Mutation testing (`make mutation`) stops at the first failure: the quick ROS-free
        # tests go first, so a mutant they catch never waits out a ROS test's deadline.
        items.sort(key=lambda item: KINDS.index(Path(str(item.fspath)).parent.name)
                   if Path(str(item.fspath)).parent.name in KINDS else len(KINDS))
