"""Nodes as processes, as `ros2 run` starts them: an isolated ROS environment, their command
lines, and a handle that logs, signals and samples one. The demo, closed-loop runs, the
tests and the development tools start every node through this module.
"""
from __future__ import annotations

import fcntl
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from liquid_control.share import share_file

# The nodes' modules: `python -m` runs them from a source checkout or a venv alike (the
# console scripts of the same names are the same entry points).
NODE_MODULES = {
    'controller_node': 'liquid_control.nodes.controller_node',
    'sim_node': 'liquid_control.nodes.sim_node',
    'expert_node': 'liquid_control.nodes.expert_node',
    'path_node': 'liquid_control.nodes.path_node',
    'effort_relay_node': 'liquid_control.nodes.effort_relay_node',
}
STOP_TIMEOUT_S = 15.0


# DDS domains 1..101 keep the ports of every participant within the range Fast DDS and
# Cyclone DDS use on Linux without clashing with ephemeral ports. Runs (demo, benchmarks,
# reliability) and test sessions draw from separate halves, so a benchmark never meets a
# test's nodes.
RUN_DOMAINS = range(1, 51)
TEST_DOMAINS = range(51, 102)


def private_domain_id(rng=None, domains=RUN_DOMAINS):
    """A DDS domain for one run, drawn from `domains` (RUN_DOMAINS, or TEST_DOMAINS for a
    test session)."""
    return (rng or random.SystemRandom()).choice(domains)


# One lock file per domain, shared by every user of the host (the folder is world-writable
# and sticky, like /tmp itself).
DOMAIN_LEASE_DIR = Path(tempfile.gettempdir()) / 'liquid_control_dds_domains'


class DomainLease:
    """A DDS domain held by one run, host-wide: an exclusive lock on the domain's file in
    DOMAIN_LEASE_DIR, so runs started together (threads of one process, separate
    processes, other users) never share a domain: two simulators on one domain would feed
    each other's controllers. The lock goes with `release()`, or with the process."""

    def __init__(self, domains=RUN_DOMAINS, rng=None):
        self.domain_id = None
        self._fd = None
        _lease_folder()
        order = list(domains)
        (rng or random.SystemRandom()).shuffle(order)
        for domain in order:
            fd = _try_lock(DOMAIN_LEASE_DIR / f'{domain}.lock')
            if fd is not None:
                self.domain_id, self._fd = domain, fd
                return
        raise RuntimeError(
            f'no free DDS domain: all {len(order)} of domains {min(order)}..{max(order)} are '
            f'held by runs on this host (their locks are in {DOMAIN_LEASE_DIR}); wait for '
            'some to end, or give the run a domain of its own')

    def release(self):
        if self._fd is not None:
            os.close(self._fd)                 # closing the file drops its lock
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def _lease_folder():
    try:
        DOMAIN_LEASE_DIR.mkdir()
        DOMAIN_LEASE_DIR.chmod(0o1777)
    except FileExistsError:
        pass


def _try_lock(path):
    """An open descriptor holding an exclusive lock on `path`, or None if another holds it
    (or the file belongs to someone who does not let us open it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except PermissionError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def fastdds_profile():
    """The package's Fast DDS profile (config/fastdds_profile.xml: name-based type matching,
    quick discovery), or None where the package's data is not installed."""
    path = share_file('config', 'fastdds_profile.xml')
    return path if path.is_file() else None


# Read by the middleware when a process starts its first participant: a process that joins
# the run's graph itself (the recorder) takes them into its own environment first.
IN_PROCESS_DDS_VARIABLES = ('ROS_AUTOMATIC_DISCOVERY_RANGE', 'FASTDDS_DEFAULT_PROFILES_FILE')


def isolated_environment(domain_id=None, log_dir=None, base=None):
    """Environment for ROS 2 processes that must not meet others: a DDS domain of their own
    (`domain_id`, else the one already set, else a random private one), discovery on this
    host only (so a robot on the network never sees these commands), the package's Fast DDS
    profile unless one is set, logs in `log_dir` (else the one set, else a temporary folder),
    unbuffered output."""
    env = dict(os.environ if base is None else base)
    if domain_id is None:
        domain_id = env.get('ROS_DOMAIN_ID') or private_domain_id()
    env['ROS_DOMAIN_ID'] = str(int(domain_id))
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    env.setdefault('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')
    profile = fastdds_profile()
    if profile is not None and not env.get('FASTDDS_DEFAULT_PROFILES_FILE'):
        env['FASTDDS_DEFAULT_PROFILES_FILE'] = str(profile)
    if log_dir is not None:
        env['ROS_LOG_DIR'] = str(log_dir)
    elif not env.get('ROS_LOG_DIR'):
        env['ROS_LOG_DIR'] = tempfile.mkdtemp(prefix='liquid_control_roslog_')
    env['PYTHONUNBUFFERED'] = '1'
    return env


def _param_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_param_value(v) for v in value) + ']'
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f'parameter value {value} is not finite')
        return repr(value)
    return str(value)


def ros_args(params=None, params_file=None, namespace=''):
    """['--ros-args', ('--params-file', f,) '-p', 'k:=v', ..., ('-r', '__ns:=/ns')]."""
    args = ['--ros-args']
    if params_file is not None:
        args += ['--params-file', str(params_file)]
    for key, value in (params or {}).items():
        args += ['-p', f'{key}:={_param_value(value)}']
    if namespace.strip('/'):
        args += ['-r', f'__ns:=/{namespace.strip("/")}']
    return args


def node_command(executable, params=None, params_file=None, namespace='', python=None):
    """Command line of one of the package's nodes, with this (or `python`) interpreter."""
    return [python or sys.executable, '-m', NODE_MODULES[executable]] + ros_args(
        params, params_file, namespace)


def _orphan_guard():
    """A command prefix that makes a child get SIGTERM when this process dies, however it
    dies (Linux util-linux setpriv; nothing where it is missing). It follows the thread
    that starts the child, so start nodes from a thread that lives as long as they do."""
    setpriv = shutil.which('setpriv')
    return [setpriv, '--pdeathsig', 'TERM', '--'] if setpriv else []


class NodeProcess:
    """One node process, its output in `log_path`. In a session of its own: Ctrl-C in the
    terminal reaches only the parent, which then stops its nodes in order."""

    def __init__(self, name, command, env, log_path):
        self.name = name
        self.command = list(command)
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(_orphan_guard() + self.command, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid

    @property
    def returncode(self):
        return self.proc.poll()

    @property
    def alive(self):
        return self.proc.poll() is None

    def send(self, sig):
        if self.alive:
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Exit code, or None if still running after `timeout` seconds."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGINT (as Ctrl-C), then SIGTERM, then SIGKILL, each given `timeout` s (a loaded
        machine can take seconds to shut a node down); returns the exit code."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                break
            if self.wait(timeout) is not None:
                break
        self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def kill(self):
        """SIGKILL: the process dies at once, nothing runs in it."""
        if self.alive:
            self.proc.kill()
            self.proc.wait(5)
        return self.proc.returncode

    def tail(self, lines=40):
        """The last lines of its output."""
        if not self._log.closed:
            self._log.flush()
        try:
            text = self.log_path.read_text(errors='replace').splitlines()
        except OSError:
            return ''
        return '\n'.join(text[-lines:])

    def rss_bytes(self):
        """Resident set size now, or None when the process is gone."""
        try:
            with open(f'/proc/{self.pid}/status') as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def cpu_seconds(self):
        """User + system CPU time used so far, or None when gone."""
        try:
            with open(f'/proc/{self.pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
        except (OSError, IndexError, ValueError):
            return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
