"""The launch-system tests need launch, launch_ros and launch_pytest (not on PyPI) and
liquid_control installed in an ament prefix. Where they are missing the test file is not
collected at all: a module-level skip would be turned by launch_testing's pytest plugin (when
it is installed) into a skip of the whole test folder."""
import importlib.util
from pathlib import Path

LAUNCH_TESTS = ['test_launch_controller.py', 'test_launch_sim.py']


def launch_system_missing():
    """Why the launch tests cannot run here, or ''."""
    # launch_ros first: the repo's launch/ folder makes `import launch` succeed as an empty
    # namespace package when the launch system is not installed.
    for module in ('launch_ros', 'launch_pytest', 'launch.actions'):
        try:
            if importlib.util.find_spec(module) is None:
                return f'{module} is not installed'
        except ModuleNotFoundError:
            return f'{module} is not installed'
    try:
        from ament_index_python.packages import get_package_prefix
        prefix = Path(get_package_prefix('liquid_control'))
    except Exception:
        return 'liquid_control is not installed in an ament prefix (colcon build)'
    if not (prefix / 'lib' / 'liquid_control' / 'controller_node').exists():
        return f'no controller_node executable under {prefix}/lib/liquid_control'
    return ''


_MISSING = launch_system_missing()
collect_ignore = LAUNCH_TESTS if _MISSING else []


def pytest_report_header(config):
    if _MISSING:
        return f'launch tests ({", ".join(LAUNCH_TESTS)}) not collected: {_MISSING}'
