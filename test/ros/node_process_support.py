"""controller_node as a separate process, seen from this one over DDS only: starting it with
config/cartpole.yaml and a test model, and a Remote holding the clients, publishers and
subscribers the process tests drive it with."""
import signal
import subprocess
import time

import pytest

from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.srv import ChangeState, GetState
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.msg import ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from ros_fixtures import CONFIG_DIR, Collector, Spinner, call, joint_state, node_command, node_env

RELIABLE = QoSProfile(depth=200, reliability=ReliabilityPolicy.RELIABLE)
NODE = '/liquid_controller'


def start_node(model, log_path, *extra):
    log = open(log_path, 'w')
    proc = subprocess.Popen(
        node_command('--params-file', str(CONFIG_DIR / 'cartpole.yaml'),
                     '-p', f'model:={model}', '-p', 'control_rate_hz:=100.0',
                     '-p', 'sensor_timeout_s:=0.3', '-p', 'dt_source:=nominal', *extra),
        env=node_env(), stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log_path
    return proc


def log_of(proc):
    return open(proc.log_path).read()


class Remote:
    """The test's view of the node process: clients, publishers, subscribers."""

    def __init__(self, context):
        import rclpy
        self.spinner = Spinner(context)
        self.node = self.spinner.add(rclpy.create_node('test_driver', context=context))
        n = self.node
        self.change_state = n.create_client(ChangeState, f'{NODE}/change_state')
        self.get_state = n.create_client(GetState, f'{NODE}/get_state')
        self.set_params = n.create_client(SetParameters, f'{NODE}/set_parameters')
        self.get_params = n.create_client(GetParameters, f'{NODE}/get_parameters')
        self.commands = Collector()
        n.create_subscription(Float64MultiArray, '/effort_controller/commands', self.commands,
                              RELIABLE)
        self.diagnostics = Collector()
        n.create_subscription(DiagnosticArray, '/diagnostics', self.diagnostics, 10)
        self.sensors = n.create_publisher(JointState, '/joint_states', 10)
        self._feed = None

    def state(self):
        return call(None, self.get_state, GetState.Request(), timeout=20,
                    attempt_timeout=2).current_state.label

    def warm_up(self):
        """One repeatable call per client, resent until answered (see ros_fixtures.call)."""
        self.state()
        unknown = ChangeState.Request()
        unknown.transition.id = 250            # no such transition: refused, nothing changes
        assert not call(None, self.change_state, unknown, timeout=20, attempt_timeout=2).success
        rate = self.get('control_rate_hz')
        request = SetParameters.Request(parameters=[ParameterMsg(name='control_rate_hz',
                                                                 value=rate)])
        assert call(None, self.set_params, request, timeout=20,
                    attempt_timeout=2).results[0].successful

    def transition(self, transition_id):
        request = ChangeState.Request()
        request.transition.id = transition_id
        return call(None, self.change_state, request).success

    def set(self, name, value):
        request = SetParameters.Request()
        if isinstance(value, str):
            pv = ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=value)
        elif isinstance(value, int):
            pv = ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=value)
        else:
            pv = ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=float(value))
        request.parameters = [ParameterMsg(name=name, value=pv)]
        return call(None, self.set_params, request).results[0]

    def get(self, name):
        request = GetParameters.Request(names=[name])
        return call(None, self.get_params, request, timeout=20, attempt_timeout=2).values[0]

    def feeding(self, period=0.01):
        """Publish joint states continuously (a timer on the driver node)."""
        if self._feed is None:
            self._feed = self.node.create_timer(period,
                                                lambda: self.sensors.publish(joint_state()))

    def stop_feeding(self):
        if self._feed is not None:
            self.node.destroy_timer(self._feed)
            self._feed = None

    def status(self, predicate=lambda values: True, timeout=10.0):
        """The node's next diagnostics status (level, message, values) matching predicate."""
        def ours(msg):
            return any(s.name == 'liquid_controller: control loop' and
                       predicate({kv.key: kv.value for kv in s.values}) for s in msg.status)
        msg = self.diagnostics.wait(1, timeout=timeout, predicate=ours)[0]
        status = [s for s in msg.status if s.name == 'liquid_controller: control loop'][0]
        return status.level[0], status.message, {kv.key: kv.value for kv in status.values}

    def close(self):
        self.spinner.close()
        self.node.destroy_node()


def controlled(msg):
    return list(msg.data) != [0.0]


def interrupt_until_exit(proc, timeout=20.0):
    """SIGINT again and again until the process exits, as Ctrl-C under `ros2 launch` does
    (the terminal signals the node, and launch forwards a second SIGINT a moment later,
    which may land while the node shuts down or while Python finalises); its exit code."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(0.01)
        except subprocess.TimeoutExpired:
            pass
    return proc.wait(5)


@pytest.fixture(scope='module')
def remote(ros_context):
    """One Remote per test module (import it with ros_context into the module)."""
    r = Remote(ros_context)
    yield r
    r.close()
