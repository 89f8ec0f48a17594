"""DDS domain leases: runs started together (threads, processes) never share a domain, a
lease ends with release or with its process, and running out says so."""
import subprocess
import sys
import threading

import pytest

from liquid_control.bringup import processes
from liquid_control.bringup.processes import DomainLease


@pytest.fixture(autouse=True)
def lease_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(processes, 'DOMAIN_LEASE_DIR', tmp_path / 'leases')
    return tmp_path / 'leases'


def test_leases_taken_together_are_distinct_and_running_out_is_an_error():
    first, second = DomainLease(range(7, 9)), DomainLease(range(7, 9))
    assert {first.domain_id, second.domain_id} == {7, 8}
    with pytest.raises(RuntimeError, match=r'no free DDS domain: all 2 of domains 7\.\.8'):
        DomainLease(range(7, 9))
    first.release()
    again = DomainLease(range(7, 9))
    assert again.domain_id == first.domain_id
    again.release()
    second.release()


def test_threads_leasing_at_once_get_one_domain_each():
    leases, barrier = [], threading.Barrier(8)

    def take():
        barrier.wait()
        leases.append(DomainLease(range(20, 28)))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(lease.domain_id for lease in leases) == list(range(20, 28))
    for lease in leases:
        lease.release()


def test_a_lease_held_by_another_process_lasts_as_long_as_that_process(lease_dir):
    holder = subprocess.Popen(
        [sys.executable, '-c',
         'import sys; from pathlib import Path; from liquid_control.bringup import processes; '
         f'processes.DOMAIN_LEASE_DIR = Path({str(lease_dir)!r}); '
         'lease = processes.DomainLease(range(30, 31)); print(lease.domain_id, flush=True); '
         'sys.stdin.readline()'],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == '30'
        with pytest.raises(RuntimeError, match='no free DDS domain'):
            DomainLease(range(30, 31))
    finally:
        holder.communicate('\n', timeout=30)
    with DomainLease(range(30, 31)) as lease:      # the holder is gone: so is its lock
        assert lease.domain_id == 30


def test_a_session_without_a_domain_leases_one_until_it_stops(tmp_path, monkeypatch):
    from liquid_control.bringup.session import SimSession

    monkeypatch.setenv('ROS_DOMAIN_ID', '77')       # the caller's own domain is not reused
    session = SimSession(tmp_path / 'run', task='cartpole', controller=None, record=False)
    mine = range(session.domain_id, session.domain_id + 1)
    assert session.domain_id in processes.RUN_DOMAINS
    assert session.env['ROS_DOMAIN_ID'] == str(session.domain_id)
    with pytest.raises(RuntimeError, match='no free DDS domain'):
        DomainLease(mine)                            # taken while the session lives
    session.stop()
    DomainLease(mine).release()
