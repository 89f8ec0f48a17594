"""launch/sim.launch.py and gazebo.launch.py under the real launch system, run as a user runs
them (`ros2 launch`): a simulator that dies ends the launch and says why; Ctrl-C still ends it
quietly; without ros_gz, gazebo.launch.py says what to install.

Collected only where the launch system is installed and liquid_control is in an ament prefix
(see test/ros/conftest.py).
"""
import os
import queue
import shutil
import signal
import subprocess
import threading

import pytest

from liquid_control.bringup.processes import isolated_environment

ENDED_BY_EXIT = '/liquid_sim exited with code 2; ending the launch'
HANG_GUARD_S = 120           # only ever reached when the launch does not end at all


class RunningLaunch:
    """`ros2 launch liquid_control <launch_file> ...` with its output read line by line."""

    def __init__(self, tmp_path, *arguments, launch_file='sim.launch.py'):
        ros2 = shutil.which('ros2')
        if ros2 is None:
            pytest.skip('the ros2 command (ros2cli, ros2launch) is not installed')
        self.process = subprocess.Popen(
            [ros2, 'launch', 'liquid_control', launch_file, *arguments],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=isolated_environment(log_dir=tmp_path / 'ros_logs'), start_new_session=True)
        self.lines = []
        self._queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for_line(self, text):
        while True:
            line = self._queue.get(timeout=HANG_GUARD_S)
            if line is None:
                raise AssertionError(f'launch ended before printing {text!r}:\n' +
                                     ''.join(self.lines))
            self.lines.append(line)
            if text in line:
                return line

    def wait_for_end(self):
        """The exit code once the launch has ended by itself; its output is in self.lines."""
        try:
            code = self.process.wait(timeout=HANG_GUARD_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)     # ros2 launch and its nodes
            raise AssertionError('the launch did not end:\n' + ''.join(self.lines)) from None
        while (line := self._queue.get(timeout=HANG_GUARD_S)) is not None:
            self.lines.append(line)
        return code

    @property
    def output(self):
        return ''.join(self.lines)


def test_a_simulator_that_dies_ends_the_launch_with_its_reason(tmp_path):
    # 500 is outside real_time_factor's range: sim_node refuses it and exits with code 2.
    launch = RunningLaunch(tmp_path, 'real_time_factor:=500')
    launch.wait_for_end()
    assert 'real_time_factor' in launch.output                 # the simulator's own error
    assert ENDED_BY_EXIT in launch.output
    # The controller was stopped with the launch, through its normal shutdown.
    assert 'shutting down: safe command published' in launch.output


def test_ctrl_c_ends_the_launch_without_blaming_a_node(tmp_path):
    launch = RunningLaunch(tmp_path, 'mode:=realtime')
    launch.wait_for_line('active: controlling with')
    launch.process.send_signal(signal.SIGINT)
    assert launch.wait_for_end() == 0, launch.output
    assert 'ending the launch' not in launch.output


def test_gazebo_launch_without_ros_gz_says_what_to_install(tmp_path):
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    try:
        get_package_share_directory('ros_gz_sim')
        pytest.skip('ros_gz is installed here: the launch would start Gazebo')
    except PackageNotFoundError:
        pass
    launch = RunningLaunch(tmp_path, 'gui:=false', launch_file='gazebo.launch.py')
    assert launch.wait_for_end() != 0
    assert 'ros_gz_sim and ros_gz_bridge are not installed: install ros-' in launch.output
    assert 'sim.launch.py' in launch.output
