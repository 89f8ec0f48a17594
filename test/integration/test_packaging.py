"""The package as ROS sees it: package.xml, and the tree `colcon build` installs."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from catkin_pkg.package import parse_package

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = 'liquid_control'
EXECUTABLES = ('controller_node', 'sim_node', 'expert_node', 'path_node', 'effort_relay_node',
               'liquid-control')


# ROS packages by the Python modules that import them.
ROS_PACKAGES = {'rclpy', 'rcl_interfaces', 'builtin_interfaces', 'std_msgs', 'std_srvs',
                'sensor_msgs', 'geometry_msgs', 'nav_msgs', 'diagnostic_msgs', 'rosgraph_msgs',
                'ament_index_python', 'lifecycle_msgs', 'trajectory_msgs', 'launch',
                'launch_ros', 'launch_pytest'}


def imported_ros_packages(folder):
    """ROS packages the Python files under `folder` import (by top-level module name)."""
    import ast
    found = set()
    for path in folder.rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and \
                not node.level else []
            found.update(n.split('.')[0] for n in names if n.split('.')[0] in ROS_PACKAGES)
    return found


def test_package_xml_declares_what_the_code_imports_and_nothing_else():
    package = parse_package(str(ROOT / 'package.xml'))
    assert package.package_format == 3
    assert package.name == PACKAGE
    assert package.get_build_type() == 'ament_python'
    exec_deps = {d.name for d in package.exec_depends}
    test_deps = {d.name for d in package.test_depends}
    # The ROS packages the nodes import, and those the config files name as message types.
    used = imported_ros_packages(ROOT / 'liquid_control') | {
        'sensor_msgs', 'nav_msgs', 'geometry_msgs', 'std_msgs'}
    assert exec_deps & ROS_PACKAGES == used | {'launch', 'launch_ros'}
    assert imported_ros_packages(ROOT / 'launch') <= exec_deps
    assert 'ros2launch' in exec_deps       # `ros2 launch` of the launch files
    for dep in ('python3-numpy', 'python3-yaml', 'python3-onnxruntime-pip',
                'python3-mujoco-pip'):
        assert dep in exec_deps, f'package.xml lacks exec_depend {dep}'
    assert imported_ros_packages(ROOT / 'test') - exec_deps <= test_deps
    assert 'python3-pytest' in test_deps


def test_keys_outside_rosdistro_are_defined_in_the_package():
    import yaml
    keys = yaml.safe_load((ROOT / 'rosdep.yaml').read_text())
    assert keys['python3-mujoco-pip']['ubuntu']['pip']['packages'] == ['mujoco']
    assert 'rosdep.yaml' in (ROOT / 'README.md').read_text()


def test_license_file_is_the_apache_license_the_package_declares():
    assert parse_package(str(ROOT / 'package.xml')).licenses == ['Apache-2.0']
    text = (ROOT / 'LICENSE').read_text()
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text


def test_setup_py_does_not_require_pypi_ros_wheels():
    # On a robot rclpy comes from /opt/ros; requiring the PyPI names would break that install.
    text = (ROOT / 'setup.py').read_text()
    assert 'ros-rclpy' not in text and "'rclpy'" not in text


@pytest.fixture(scope='module')
def colcon_install(tmp_path_factory):
    colcon = shutil.which('colcon', path=str(Path(sys.executable).parent))
    if colcon is None:
        pytest.fail('colcon is not installed in this environment (requirements/dev.txt)')
    base = tmp_path_factory.mktemp('colcon')
    result = subprocess.run(
        [colcon, '--log-base', str(base / 'log'), 'build', '--base-paths', str(ROOT),
         '--build-base', str(base / 'build'), '--install-base', str(base / 'install'),
         '--packages-select', PACKAGE],
        cwd=base, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return base / 'install' / PACKAGE


def _relative_files(folder, pattern):
    return sorted(p.name for p in folder.glob(pattern))


def test_colcon_installs_share_tree(colcon_install):
    share = colcon_install / 'share' / PACKAGE
    assert (share / 'package.xml').read_bytes() == (ROOT / 'package.xml').read_bytes()
    marker = colcon_install / 'share' / 'ament_index' / 'resource_index' / 'packages' / PACKAGE
    assert marker.is_file()
    for subdir, pattern in (('launch', '*.launch.*'), ('config', '*.yaml'),
                            ('models', '*.onnx'), ('models', '*.md'), ('worlds', '*.sdf')):
        assert (_relative_files(share / subdir, pattern)
                == _relative_files(ROOT / subdir, pattern)), f'share/{PACKAGE}/{subdir}'


def test_colcon_installs_executables_where_ros2_run_finds_them(colcon_install):
    lib = colcon_install / 'lib' / PACKAGE
    for name in EXECUTABLES:
        assert (lib / name).is_file() and os.access(lib / name, os.X_OK), name


def test_installed_cli_runs_from_the_install_tree(colcon_install, tmp_path):
    site = next((colcon_install / 'lib').glob('python3*/site-packages'))
    env = dict(os.environ, PYTHONPATH=str(site), AMENT_PREFIX_PATH=str(colcon_install))
    probe = subprocess.run(
        [sys.executable, '-c', 'import liquid_control, liquid_control.runtime.model_paths as m;'
         'print(liquid_control.__file__); print(m.installed_models_dir())'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    module_file, models_dir = probe.stdout.split()
    assert Path(module_file).is_relative_to(site)
    assert Path(models_dir) == colcon_install / 'share' / PACKAGE / 'models'
    result = subprocess.run([str(colcon_install / 'lib' / PACKAGE / 'liquid-control'), '--help'],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ('tasks', 'inspect', 'train', 'eval', 'demo', 'bench', 'reliability'):
        assert command in result.stdout, result.stdout
    # The built-in tasks register from the install (its egg-info), their files in its share.
    tasks = subprocess.run([str(colcon_install / 'lib' / PACKAGE / 'liquid-control'), 'tasks',
                            'cartpole'], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60)
    assert tasks.returncode == 0, tasks.stderr
    share = colcon_install / 'share' / PACKAGE
    assert f'controller params:   {share}/config/cartpole.yaml' in tasks.stdout, tasks.stdout
    assert f'{site}/liquid_control/tasks/cartpole/cartpole.xml' in tasks.stdout
