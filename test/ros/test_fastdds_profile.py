"""The Fast DDS profile every process the package starts gets (config/fastdds_profile.xml):
Fast DDS parses it and applies its properties. Without it, a TypeLookup reply that fails
leaves a reader and a writer unmatched for the life of the process (seen as "the processes
did not connect" with "Error registering remote type" in sim_node's log)."""
import subprocess
import sys

import pytest

pytest.importorskip('rclpy')

from liquid_control.bringup.processes import fastdds_profile, isolated_environment

PARTICIPANT = '''
import rclpy
from nav_msgs.msg import Odometry
rclpy.init()
node = rclpy.create_node('profile_check')
node.create_publisher(Odometry, 'odom', 1)
node.destroy_node()
rclpy.shutdown()
print('participant started')
'''


def start_participant(profile, tmp_path):
    env = isolated_environment(log_dir=tmp_path / 'ros_log')
    env['FASTDDS_DEFAULT_PROFILES_FILE'] = str(profile)
    return subprocess.run([sys.executable, '-c', PARTICIPANT], env=env, capture_output=True,
                          text=True, timeout=60)


def test_the_shipped_profile_parses_and_a_participant_starts_with_it(tmp_path):
    result = start_participant(fastdds_profile(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'participant started' in result.stdout
    assert 'Error' not in result.stderr, result.stderr


def test_its_type_propagation_setting_reaches_fast_dds(tmp_path):
    # The same file with a value Fast DDS does not know: the participant is refused, so the
    # file is read and the property applied (a profile that was ignored would start).
    altered = tmp_path / 'altered.xml'
    text = fastdds_profile().read_text()
    assert text.count('registration_only') == 1
    altered.write_text(text.replace('registration_only', 'not_a_mode'))
    result = start_participant(altered, tmp_path)
    assert result.returncode != 0
    assert 'fastdds.type_propagation' in result.stderr, result.stderr
