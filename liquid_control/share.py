"""Where the package's data lives: share/liquid_control of a ROS install (launch/, config/,
models/, worlds/), or the source tree, which holds the same folders, when the package runs
from a checkout. No ROS import beyond ament_index_python, and only when asked."""
from __future__ import annotations

from pathlib import Path

PACKAGE = 'liquid_control'
SOURCE_TREE = Path(__file__).resolve().parents[1]


def installed_share_dir():
    """share/liquid_control of the ament install, or None when not installed."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    except ImportError:
        return None
    try:
        return Path(get_package_share_directory(PACKAGE))
    # OSError: no AMENT_PREFIX_PATH at all
    except (PackageNotFoundError, ValueError, LookupError, OSError):
        return None


def share_dir():
    """share/liquid_control of the ROS install, else the source tree."""
    return installed_share_dir() or SOURCE_TREE


def share_file(*parts):
    """A file of the package's data, e.g. share_file('config', 'cartpole.yaml')."""
    return share_dir().joinpath(*parts)
