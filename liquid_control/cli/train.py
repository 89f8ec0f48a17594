"""`liquid-control train`: train, export, evaluate and document controllers.

    liquid-control train --task cartpole --arch cfc [--seed 0] [--out models]
    liquid-control train --all [--out models]
"""
from __future__ import annotations

import argparse
import sys

from liquid_control.runtime.contract import ARCHS
from liquid_control.tasks import get_task, task_names

HELP = 'train controllers (behaviour cloning + DAgger in simulation) and export them to ONNX'


def add_arguments(parser):
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument('--task', choices=task_names(),
                       help='the task to train for (any installed task with an expert)')
    which.add_argument('--all', action='store_true',
                       help='every installed task that has an expert x every arch')
    parser.add_argument('--arch', choices=ARCHS, help='the cell (required with --task)')
    parser.add_argument('--seed', type=int, default=0, help='training seed (default 0)')
    parser.add_argument('--out', default='models', help='output folder (default models)')
    parser.add_argument('--runs', default='runs',
                        help='folder for torch checkpoints and JSON reports (default runs)')
    parser.add_argument('--quick', action='store_true',
                        help='a seconds-long run that checks the pipeline (not a usable model)')


def run(args):
    if args.task and not args.arch:
        print('liquid-control train: --arch is required with --task', file=sys.stderr)
        return 2
    if args.task and not get_task(args.task).has_expert:
        print(f'liquid-control train: task {args.task} has no expert to learn from',
              file=sys.stderr)
        return 2
    from liquid_control.training.train import train
    tasks = [t for t in task_names() if get_task(t).has_expert]
    jobs = [(t, a) for t in tasks for a in ARCHS] if args.all else [(args.task, args.arch)]
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog='liquid-control train', description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))
