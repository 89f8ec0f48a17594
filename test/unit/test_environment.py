"""The environment context manager that the study's pool and the ROS benchmarks share: the
variables it sets hold inside the block only, whatever was there before comes back."""
import os

import pytest

from liquid_control_tools.bench.common import environment
from liquid_control_tools.bench.ros_harness import ros_env

SET_BEFORE, UNSET_BEFORE, TO_UNSET = 'LC_TEST_SET_BEFORE', 'LC_TEST_UNSET_BEFORE', 'LC_TEST_UNSET'


@pytest.fixture
def before(monkeypatch):
    monkeypatch.setenv(SET_BEFORE, 'old')
    monkeypatch.delenv(UNSET_BEFORE, raising=False)
    monkeypatch.setenv(TO_UNSET, 'present')


def assert_as_before():
    assert os.environ[SET_BEFORE] == 'old'
    assert UNSET_BEFORE not in os.environ
    assert os.environ[TO_UNSET] == 'present'


def test_variables_hold_inside_the_block_and_are_restored_after(before):
    with environment({SET_BEFORE: 'new', UNSET_BEFORE: 'added', TO_UNSET: None}):
        assert os.environ[SET_BEFORE] == 'new'
        assert os.environ[UNSET_BEFORE] == 'added'
        assert TO_UNSET not in os.environ          # None: unset for the block
    assert_as_before()


def test_variables_are_restored_when_the_block_raises(before):
    with pytest.raises(RuntimeError, match='inside'):
        with environment({SET_BEFORE: 'new', UNSET_BEFORE: 'added', TO_UNSET: None}):
            raise RuntimeError('inside')
    assert_as_before()


def test_ros_env_sets_only_the_ros_variables_of_env(monkeypatch):
    monkeypatch.setenv('ROS_DOMAIN_ID', '7')
    monkeypatch.delenv('ROS_LOG_DIR', raising=False)
    monkeypatch.setenv('RMW_IMPLEMENTATION', 'rmw_before')
    env = {'ROS_DOMAIN_ID': '42', 'ROS_LOG_DIR': '/tmp/logs', 'PATH': '/nowhere'}
    path = os.environ.get('PATH')
    with ros_env(env):
        assert os.environ['ROS_DOMAIN_ID'] == '42'
        assert os.environ['ROS_LOG_DIR'] == '/tmp/logs'
        assert os.environ['RMW_IMPLEMENTATION'] == 'rmw_before'   # not in env: kept
        assert os.environ.get('PATH') == path                     # not a ROS variable
    assert os.environ['ROS_DOMAIN_ID'] == '7'
    assert 'ROS_LOG_DIR' not in os.environ
    assert os.environ['RMW_IMPLEMENTATION'] == 'rmw_before'
