"""Model integrity in the controller node: the `model_sha256` pin and `require_sha256`,
at configure and at a swap, through the standard parameter services (node in this process,
driven over DDS by reliability.harness)."""
import hashlib
import shutil

import pytest

from liquid_control.runtime import integrity
from liquid_control_tools.reliability.harness import NodeUnderTest, wait_until
from liquid_control_tools.reliability.models import probe_model

NODE = '/liquid_controller'


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp('models')
    a = probe_model(d / 'a.onnx', 'cartpole', seed=0)
    b = probe_model(d / 'b.onnx', 'cartpole', seed=1)
    bare = d / 'bare.onnx'
    shutil.copy(b, bare)
    for path in (a, b):
        integrity.card_path(path).write_text(f'- file sha256: `{sha(path)}`\n')
    return {'a': a, 'b': b, 'bare': bare}


def start(models, **params):
    try:
        return NodeUnderTest('cartpole', models['a'], **params)
    except RuntimeError as exc:
        return str(exc)


def test_pin_at_configure(models):
    nut = start(models, model_sha256=sha(models['a']))
    assert not isinstance(nut, str), nut
    nut.close()
    error = start(models, model_sha256='0' * 64)
    assert isinstance(error, str) and 'does not match the expected' in error


def test_pin_that_is_not_a_sha256_is_a_configure_error(models):
    error = start(models, model_sha256='cafe')
    assert isinstance(error, str) and 'model_sha256' in error


def test_require_sha256(models):
    nut = start(models, require_sha256=True)          # a has its card
    assert not isinstance(nut, str), nut
    try:
        ok, reason = nut.driver.set_parameter(NODE, 'model', str(models['bare']))
        assert not ok and 'no recorded sha256' in reason
        ok, reason = nut.driver.set_parameter(NODE, 'model', str(models['b']))
        assert ok, reason
    finally:
        nut.close()


def test_swap_with_a_pin(models):
    from rcl_interfaces.msg import Parameter as ParameterMsg
    from rcl_interfaces.srv import SetParametersAtomically

    from liquid_control_tools.reliability.harness import parameter_value
    nut = start(models, model_sha256=sha(models['a']))
    assert not isinstance(nut, str), nut
    try:
        # The pin refers to a file: swapping the model alone keeps the old pin and fails.
        ok, reason = nut.driver.set_parameter(NODE, 'model', str(models['b']))
        assert not ok and 'does not match the expected' in reason
        assert nut.node.diagnostics_snapshot()['model_sha256'] == sha(models['a'])
        request = SetParametersAtomically.Request(parameters=[
            ParameterMsg(name='model', value=parameter_value(str(models['b']))),
            ParameterMsg(name='model_sha256', value=parameter_value(sha(models['b'])))])
        result = nut.driver.call(SetParametersAtomically,
                                 f'{NODE}/set_parameters_atomically', request).result
        assert result.successful, result.reason
        # The new model is installed at the start of the next tick.
        assert wait_until(lambda: nut.node.diagnostics_snapshot()['model_sha256']
                          == sha(models['b']), 5.0)
    finally:
        nut.close()


def test_require_sha256_is_read_only(models):
    nut = start(models)
    assert not isinstance(nut, str), nut
    try:
        ok, reason = nut.driver.set_parameter(NODE, 'require_sha256', True)
        assert not ok and reason
    finally:
        nut.close()
