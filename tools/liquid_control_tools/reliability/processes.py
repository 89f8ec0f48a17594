"""Command lines of the nodes for fault scenarios and long runs (the processes themselves
are liquid_control.bringup.processes.NodeProcess, in this run's private DDS domain)."""
from __future__ import annotations

import sys

from liquid_control.bringup.processes import NodeProcess, isolated_environment, node_command
from liquid_control.tasks import get_task

__all__ = ['NodeProcess', 'controller_command', 'node_environment', 'sensor_command',
           'sim_command']


def node_environment():
    """The environment of this run's node processes (its private DDS domain)."""
    return isolated_environment()


def controller_command(task, **params):
    """controller_node with the task's parameters file and parameter overrides."""
    return node_command('controller_node', params, get_task(task).params_file)


def sim_command(**params):
    return node_command('sim_node', params)


def sensor_command(rate_hz, position):
    """A stand-alone JointState publisher (see sensor_publisher.py)."""
    return [sys.executable, '-m', 'liquid_control_tools.reliability.sensor_publisher',
            '--rate', str(rate_hz), '--position', str(position)]
