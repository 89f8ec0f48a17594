"""`liquid-control train`: train, export, evaluate and document controllers.

    liquid-control train --task cartpole --arch cfc [--seed 0] [--out models]
    liquid-control train --all [--arch mlp] [--out models]
    liquid-control train --from-bag BAG [BAG ...] --config my_robot.yaml --arch cfc [--out DIR]
"""
from __future__ import annotations

import argparse
import sys

from liquid_control.runtime.contract import ARCHS, LIQUID_AND_GRU
from liquid_control.training.bag_dataset import TIME_BASES
from liquid_control.tasks import get_task, task_names

HELP = ('train controllers (in simulation with DAgger, or from recorded rosbag2 runs) and '
        'export them to ONNX')


def add_arguments(parser):
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument('--task', choices=task_names(),
                       help='the task to train for (any installed task with an expert)')
    which.add_argument('--all', action='store_true',
                       help='every installed task that has an expert x the shipped archs '
                            f'({", ".join(LIQUID_AND_GRU)}), or x --arch if given')
    which.add_argument('--from-bag', nargs='+', metavar='BAG',
                       help='rosbag2 recordings (MCAP or sqlite3) of the robot driven by another '
                            'controller or by hand: learn its commands (needs --config)')
    parser.add_argument('--arch', choices=ARCHS,
                        help='the cell (required with --task and --from-bag; with --all, '
                             'train only this one)')
    bag = parser.add_argument_group('training from bags')
    bag.add_argument('--config', help="the controller_node parameters file the model will run "
                     "with: its observation mapping builds the inputs, its action topic, names "
                     "and min/max are the command and the model's limits")
    bag.add_argument('--name', help='model name (file <name>_<arch>.onnx; default: the '
                     "config file's name)")
    bag.add_argument('--angle', action='append', default=[], metavar='OBS',
                     help='an observation that is an angle (fed as sin/cos, so a winding angle '
                          'stays continuous); repeatable')
    bag.add_argument('--namespace', default='',
                     help="the node's namespace when the bags were recorded (relative topics "
                          'of the config resolve in it)')
    bag.add_argument('--time', choices=TIME_BASES, default='auto', dest='time_base',
                     help='time of each message: clock (the /clock in the bag: a simulation '
                          'on sim time), receive (the time stored with it), auto (clock when '
                          'the bag has /clock; default)')
    bag.add_argument('--epochs', type=int, default=None, help='training epochs (default 150)')
    parser.add_argument('--seed', type=int, default=0, help='training seed (default 0)')
    parser.add_argument('--out', default='models', help='output folder (default models)')
    parser.add_argument('--runs', default='runs',
                        help='folder for torch checkpoints and JSON reports (default runs)')
    parser.add_argument('--quick', action='store_true',
                        help='a seconds-long run that checks the pipeline (not a usable model)')


def run(args):
    if (args.task or args.from_bag) and not args.arch:
        what = '--task' if args.task else '--from-bag'
        print(f'liquid-control train: --arch is required with {what}', file=sys.stderr)
        return 2
    if args.from_bag:
        return run_from_bags(args)
    if args.task and not get_task(args.task).has_expert:
        print(f'liquid-control train: task {args.task} has no expert to learn from',
              file=sys.stderr)
        return 2
    from liquid_control.training.train import train
    tasks = [t for t in task_names() if get_task(t).has_expert]
    # --all rebuilds the shipped models (make models); a baseline only when asked for.
    archs = (args.arch,) if args.arch else LIQUID_AND_GRU
    jobs = [(t, a) for t in tasks for a in archs] if args.all else [(args.task, args.arch)]
    failed = []
    for task, arch in jobs:
        report = train(task, arch, seed=args.seed, out_dir=args.out, quick=args.quick,
                       run_dir=args.runs)
        if not args.quick and report['eval']['success_rate'] < 0.95:
            failed.append(f'{task}_{arch} ({report["eval"]["success_rate"]:.0%})')
    if failed:
        print(f'below 95% closed-loop success: {", ".join(failed)}', file=sys.stderr)
        return 1
    return 0


def run_from_bags(args):
    from liquid_control.control.params import ConfigError
    from liquid_control.training.bag_dataset import BagError
    from liquid_control.training.from_bag import train_from_bags
    if not args.config:
        print('liquid-control train: --from-bag needs --config, the controller_node parameters '
              'file the model will run with', file=sys.stderr)
        return 2
    if args.epochs is not None and args.epochs < 1:
        print('liquid-control train: --epochs must be >= 1', file=sys.stderr)
        return 2
    overrides = {} if args.epochs is None else {'epochs': args.epochs}
    if args.quick:
        overrides.update(epochs=1)
    try:
        train_from_bags(args.from_bag, args.config, args.arch, out_dir=args.out,
                        name=args.name, angles=tuple(args.angle), seed=args.seed,
                        namespace=args.namespace, time_base=args.time_base,
                        run_dir=args.runs, **overrides)
    except (BagError, ConfigError) as exc:
        print(f'liquid-control train: {exc}', file=sys.stderr)
        return 2
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='liquid-control train', description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))
