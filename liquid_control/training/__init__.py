"""Training (behaviour cloning + DAgger in simulation) and ONNX export of controllers.

Needs torch, ncps and the simulator; the controller node never imports this package.
Entry points: `train.train(task, arch, ...)` and `cli_main(argv)` (`liquid-control train`).
"""


def cli_main(argv=None):
    """`liquid-control train` as a function: returns the process exit code."""
    from .command import main
    return main(argv)
