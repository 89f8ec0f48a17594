"""The safe command when controller_node is told to stop by a signal (SIGTERM, SIGINT, and
SIGINT repeated as `ros2 launch` forwards it): each test starts a node process of its own and
ends it."""
import signal

import pytest

from node_process_support import (  # noqa: F401
    controlled, interrupt_until_exit, log_of, remote, start_node)
from ros_fixtures import ros_context, task_models, wait_for  # noqa: F401

pytestmark = pytest.mark.slow   # seconds each (processes): not in the fast loop


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_a_signal_publishes_the_safe_command_before_exit(task_models, tmp_path, remote, signum):
    proc = start_node(task_models['cartpole_cfc'], tmp_path / 'node.log')
    try:
        assert remote.get_state.wait_for_service(timeout_sec=20)
        remote.feeding()
        remote.commands.wait(3, predicate=controlled, timeout=20)
        proc.send_signal(signum)
        assert proc.wait(15) == 0, log_of(proc)
        remote.stop_feeding()
        wait_for(lambda: list(remote.commands.messages[-1].data) == [0.0], timeout=5,
                 what='the safe command as the last message')
        assert 'Traceback' not in log_of(proc)
        # The reliable subscriber here received it: the log must not say otherwise (Fast
        # DDS confirms delivery only at its next heartbeat, up to 3 s later).
        assert 'safe command published and confirmed by every reliable subscriber' in \
            log_of(proc), log_of(proc)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_repeated_sigint_still_exits_cleanly_after_the_safe_command(task_models, tmp_path,
                                                                    remote):
    proc = start_node(task_models['cartpole_cfc'], tmp_path / 'node.log')
    try:
        assert remote.get_state.wait_for_service(timeout_sec=20)
        remote.feeding()
        remote.commands.wait(3, predicate=controlled, timeout=20)
        assert interrupt_until_exit(proc) == 0, log_of(proc)
        remote.stop_feeding()
        wait_for(lambda: list(remote.commands.messages[-1].data) == [0.0], timeout=5,
                 what='the safe command as the last message')
        assert 'Traceback' not in log_of(proc)
    finally:
        if proc.poll() is None:
            proc.kill()


# controller_node's main() with a fault injected: from its fourth diagnostics period on, the
# diagnostics timer raises, which ends the executor thread.
EXECUTOR_DIES = '''
import sys
import liquid_control.nodes.controller_node as node_module
real = node_module.ControllerNode.publish_diagnostics
calls = []
def failing(self):
    calls.append(1)
    if len(calls) > 3:
        raise RuntimeError('injected fault in a callback')
    return real(self)
node_module.ControllerNode.publish_diagnostics = failing
sys.exit(node_module.main(sys.argv))
'''


def test_an_executor_that_dies_ends_the_node_with_the_safe_command(task_models, tmp_path,
                                                                   remote):
    import subprocess
    import sys

    from ros_fixtures import CONFIG_DIR, node_env
    log_path = tmp_path / 'node.log'
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(
            [sys.executable, '-c', EXECUTOR_DIES, '--ros-args', '--params-file',
             str(CONFIG_DIR / 'cartpole.yaml'), '-p', f'model:={task_models["cartpole_cfc"]}',
             '-p', 'control_rate_hz:=100.0'], env=node_env(), stdout=log,
            stderr=subprocess.STDOUT)
    proc.log_path = log_path
    try:
        assert remote.get_state.wait_for_service(timeout_sec=20)
        remote.feeding()
        remote.commands.wait(3, predicate=controlled, timeout=20)
        assert proc.wait(30) == 1, log_of(proc)      # on its own: no signal was sent
        remote.stop_feeding()
        wait_for(lambda: list(remote.commands.messages[-1].data) == [0.0], timeout=5,
                 what='the safe command as the last message')
        assert 'executor stopped: RuntimeError: injected fault in a callback' in log_of(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
