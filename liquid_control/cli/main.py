"""The `liquid-control` command.

Each subcommand lives in its own module exposing `HELP`, `add_arguments(parser)` and
`run(args) -> exit code`. Those modules keep heavy imports (torch, mujoco, rclpy) inside
`run`, so `liquid-control inspect` on a robot never needs torch or mujoco. Other installed
packages add subcommands through the entry point group `liquid_control.commands` (the
development tools add `bench` and `reliability` that way).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import entry_points

from liquid_control.runtime.contract import ModelContractError

SUBCOMMANDS = {
    'tasks': 'liquid_control.cli.tasks',
    'inspect': 'liquid_control.cli.inspect',
    'train': 'liquid_control.cli.train',
    'eval': 'liquid_control.cli.eval',
    'demo': 'liquid_control.cli.demo',
    'adopt': 'liquid_control.cli.adopt',
}
COMMANDS_GROUP = 'liquid_control.commands'


def _available():
    """name -> module for the subcommands whose modules import."""
    found = {}
    plugins = {ep.name: ep.value for ep in entry_points(group=COMMANDS_GROUP)
               if ep.name not in SUBCOMMANDS}
    for name, module_name in {**SUBCOMMANDS, **plugins}.items():
        try:
            found[name] = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if not module_name.startswith(exc.name or '\0'):
                raise  # the module exists but one of its imports is missing
    return found


def build_parser(modules):
    parser = argparse.ArgumentParser(
        prog='liquid-control',
        description='Liquid neural network (CfC, LTC, NCP) and GRU controllers for ROS 2.')
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    for name, module in modules.items():
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    return parser


def main(argv=None):
    modules = _available()
    args = build_parser(modules).parse_args(argv)
    try:
        return modules[args.command].run(args)
    except ModelContractError as exc:
        print(f'liquid-control {args.command}: {exc}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f'liquid-control {args.command}: interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
