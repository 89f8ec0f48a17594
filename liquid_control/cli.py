"""The `liquid-control` command. Each subcommand's work lives in its own module, imported only
when that subcommand runs (so `inspect` on a robot never needs torch or mujoco)."""
from __future__ import annotations

import argparse
import importlib
import sys

from .runtime.contract import ModelContractError


def _inspect_args(p):
    p.add_argument('model', help='model file, or a name such as cartpole_cfc')
    p.add_argument('--steps', type=int, default=2000, help='steps timed (default 2000)')


# name -> (module with run(args), help, function adding arguments)
SUBCOMMANDS = {
    'inspect': ('liquid_control.inspect_model', 'show a model\'s contract, metadata, '
                'parameter count and step time', _inspect_args),
}


def build_parser():
    parser = argparse.ArgumentParser(
        prog='liquid-control',
        description='Liquid neural network (CfC, LTC, NCP) and GRU controllers for ROS 2.')
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    for name, (_, help_text, add_args) in SUBCOMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    try:
        return module.run(args)
    except ModelContractError as exc:
        print(f'liquid-control {args.command}: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
