"""The controller's parameters file at start-up: a misspelled key and a value of the wrong
type fail configure with a message naming the parameter (rclpy would drop an undeclared key
silently and raise in the constructor on a wrong type). The node runs in this process on its
own rclpy context, started as `ros2 run` starts it: `--ros-args --params-file FILE`."""
import pytest
import rclpy
import yaml

from liquid_control.nodes.controller_node import ControllerNode
from liquid_control.tasks import get_task
from liquid_control_tools.reliability.models import probe_model


@pytest.fixture(scope='module')
def model(tmp_path_factory):
    return probe_model(tmp_path_factory.mktemp('m') / 'probe.onnx', 'cartpole')


def params_file(path, model, change):
    doc = yaml.safe_load(get_task('cartpole').params_file.read_text())
    params = doc['/**/liquid_controller']['ros__parameters']
    params['model'] = str(model)
    change(params)
    path.write_text(yaml.safe_dump(doc))
    return path


def start(path):
    """(lifecycle state, configure error) of a node started with the parameters file."""
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = ControllerNode(context=context, cli_args=['--ros-args', '--params-file',
                                                         str(path)])
        try:
            return node.lifecycle_state, node.diagnostics_snapshot()['configure_error']
        finally:
            node.shutdown_safely()
            node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)


def test_the_unchanged_file_configures(tmp_path, model):
    state, error = start(params_file(tmp_path / 'ok.yaml', model, lambda p: None))
    assert state == 'active' and not error


def misspell_max(p):
    p['action']['maxx'] = p['action'].pop('max')


def unlisted_source(p):
    p['observations']['imu'] = {'topic': 'imu', 'type': 'sensor_msgs/msg/Imu'}


@pytest.mark.parametrize('change, expected', [
    (misspell_max, 'unknown parameter(s): action.maxx (did you mean action.max?)'),
    (lambda p: p.update(control_rate=20.0),
     'unknown parameter(s): control_rate (did you mean control_rate_hz?)'),
    (unlisted_source, "observations.imu.topic (source 'imu' is not in observations.sources)"),
    (lambda p: p.update(control_rate_hz='fast'), "control_rate_hz must be a number, got 'fast'"),
    (lambda p: p['observations']['joint_states'].update(fields=5),
     'observations.joint_states.fields must be a list of strings, got 5'),
    (lambda p: p.update(dt_source=True), 'dt_source must be a string, got True'),
    (lambda p: p.update(autostart='yes'), "autostart must be true or false, got 'yes'"),
    (lambda p: p.update(control_rate_hz=5000.0), 'control_rate_hz must be 1 to 2000, got 5000'),
    (lambda p: p.update(busy_wait_us=-3), 'busy_wait_us must be 0 to 100000, got -3'),
], ids=['misspelled limit', 'misspelled rate', 'unlisted source', 'rate of wrong type',
        'fields of wrong type', 'string given a bool', 'bool given a string',
        'rate out of range', 'int out of range'])
def test_a_bad_file_fails_configure_naming_the_parameter(tmp_path, model, change, expected):
    state, error = start(params_file(tmp_path / 'bad.yaml', model, change))
    assert state == 'unconfigured'
    assert expected in error, error


def test_diagnostics_report_a_node_whose_rate_is_not_a_number(tmp_path, model):
    # The unconfigured node keeps publishing diagnostics (the reason it is not running).
    context = rclpy.Context()
    rclpy.init(context=context)
    path = params_file(tmp_path / 'bad.yaml', model,
                       lambda p: p.update(control_rate_hz='fast'))
    try:
        node = ControllerNode(context=context, cli_args=['--ros-args', '--params-file',
                                                         str(path)])
        try:
            node.publish_diagnostics()
            assert 'control_rate_hz must be a number' in \
                node.diagnostics_snapshot()['configure_error']
        finally:
            node.shutdown_safely()
            node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
