"""A model that loads but cannot step (NaN weights) is refused by the running node: at a
swap, which keeps the running model, and at configure. Node in this process, driven over DDS
by reliability.harness."""
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from liquid_control.runtime.session import file_sha256
from liquid_control_tools.reliability.harness import NodeUnderTest
from liquid_control_tools.reliability.models import probe_model

NODE = '/liquid_controller'


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp('models')
    good = probe_model(d / 'good.onnx', 'cartpole', seed=0)
    nan = d / 'nan_weights.onnx'
    model = onnx.load(str(probe_model(d / 'base.onnx', 'cartpole', seed=1)))
    for init in model.graph.initializer:
        if init.name == 'w':          # the input weights: every output becomes NaN
            init.CopyFrom(numpy_helper.from_array(
                np.full(numpy_helper.to_array(init).shape, np.nan, np.float32), 'w'))
    onnx.save(model, str(nan))
    return {'good': good, 'nan': nan}


def test_a_swap_to_a_model_that_cannot_step_is_refused_and_the_running_one_kept(models):
    nut = NodeUnderTest('cartpole', models['good'])
    try:
        ok, reason = nut.driver.set_parameter(NODE, 'model', str(models['nan']))
        assert not ok
        assert 'trial step' in reason and 'non-finite output' in reason, reason
        snapshot = nut.node.diagnostics_snapshot()
        assert snapshot['model_sha256'] == file_sha256(models['good'])
        assert nut.node.lifecycle_state == 'active'
    finally:
        nut.close()


def test_configure_with_a_model_that_cannot_step_fails_with_the_reason(models):
    with pytest.raises(RuntimeError, match='trial step.*non-finite output'):
        NodeUnderTest('cartpole', models['nan'])
