"""liquid_control: liquid neural network and GRU controllers for ROS 2."""

__version__ = '0.1.0'


def export(module, **kwargs):
    """Export a torch module with the step signature (obs, state, dt) -> (action, state) to a
    contract ONNX file the node runs; see liquid_control.training.export_module.export_module
    for the arguments. Needs torch and onnx (the training install)."""
    from liquid_control.training.export_module import export_module
    return export_module(module, **kwargs)
