"""Training (behaviour cloning + DAgger in simulation) and ONNX export of controllers.

Needs torch, ncps and the simulator; the controller node never imports this package.
Entry point: `train.train(task, arch, ...)`; `liquid-control train` is liquid_control.cli.train.
"""
