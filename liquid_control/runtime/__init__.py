"""ROS-free controller runtime: the model contract, loading, validation and stepping.

Imports neither rclpy nor torch: a robot needs only numpy, onnxruntime and pyyaml for it.
"""
from .contract import CONTRACT_VERSION, ModelContractError, ModelMetadata
from .model_paths import available_models, resolve_model
from .session import ControllerSession, StepRejected, load_controller

__all__ = [
    'CONTRACT_VERSION', 'ControllerSession', 'ModelContractError', 'ModelMetadata',
    'StepRejected', 'available_models', 'load_controller', 'resolve_model',
]
