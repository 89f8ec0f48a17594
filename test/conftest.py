"""Test-wide isolation for ROS 2: each pytest run gets its own DDS domain, discovery stays on
this host, and ROS logs go to a temporary folder. Set before any test imports rclpy, and
inherited by the processes tests start.

Tests live in test/unit, test/ros and test/integration; each is marked with its folder's name
(markers registered in setup.cfg); tests of seconds each are marked `slow`, so
`pytest -m "not slow"` is the fast loop.
"""
import os
from pathlib import Path

from liquid_control.bringup.processes import isolated_environment, private_domain_id

os.environ.update(isolated_environment(private_domain_id()))

KINDS = ('unit', 'ros', 'integration')


def pytest_collection_modifyitems(config, items):
    for item in items:
        kind = Path(str(item.fspath)).parent.name
        if kind in KINDS:
            item.add_marker(kind)
        # Multi-process runs, and anything marked long, are slow as well.
        if kind == 'integration' or item.get_closest_marker('long'):
            item.add_marker('slow')
