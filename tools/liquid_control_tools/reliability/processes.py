"""The nodes as separate processes, as `ros2 run` starts them, for fault scenarios and long runs.

Each process gets the test's private DDS domain (harness.isolate_ros), writes its output to a
log file, and can be signalled, killed, and sampled for resident memory (/proc/<pid>/status).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .harness import REPO, config_dir, isolate_ros


def _ros_args(params_file=None, **params):
    args = ['--ros-args']
    if params_file is not None:
        args += ['--params-file', str(params_file)]
    for name, value in params.items():
        args += ['-p', f'{name}:={_yaml(value)}']
    return args


def _yaml(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_yaml(v) for v in value) + ']'
    if isinstance(value, float):
        return repr(value)
    return str(value)


def controller_command(task, **params):
    """controller_node with config/<task>.yaml and parameter overrides."""
    return [sys.executable, '-m', 'liquid_control.nodes.controller_node',
            *_ros_args(config_dir() / f'{task}.yaml', **params)]


def sim_command(**params):
    return [sys.executable, '-m', 'liquid_control.nodes.sim_node', *_ros_args(**params)]


def sensor_command(rate_hz, position):
    """A stand-alone JointState publisher (see sensor_publisher.py)."""
    return [sys.executable, '-m', 'liquid_control_tools.reliability.sensor_publisher',
            '--rate', str(rate_hz), '--position', str(position)]


class NodeProcess:
    """One node process with its log."""

    def __init__(self, command, log_path, name=''):
        self.command = command
        self.name = name or Path(command[2]).name
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = isolate_ros(dict(os.environ))
        env['PYTHONUNBUFFERED'] = '1'
        env['PYTHONPATH'] = os.pathsep.join(
            [str(REPO)] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
        self._log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(command, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    @property
    def alive(self):
        return self.proc.poll() is None

    @property
    def returncode(self):
        return self.proc.poll()

    def send(self, sig):
        if self.alive:
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Exit code, or None if still running after `timeout` seconds."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10.0):
        """SIGINT, then SIGKILL if it does not exit within `timeout`."""
        if self.alive:
            self.send(signal.SIGINT)
            if self.wait(timeout) is None:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode

    def kill(self):
        """SIGKILL: the process dies at once, nothing runs in it."""
        if self.alive:
            self.proc.kill()
            self.proc.wait(5)
        return self.proc.returncode

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
            ticks = os.sysconf('SC_CLK_TCK')
            return (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            return None

    def log(self, tail=40):
        try:
            lines = self.log_path.read_text(errors='replace').splitlines()
        except OSError:
            return ''
        return '\n'.join(lines[-tail:])


def wait_process_exit(process, timeout):
    deadline = time.monotonic() + timeout
    while process.alive and time.monotonic() < deadline:
        process.wait(0.05)
    return process.returncode
