"""`liquid-control bench`: run the benchmarks and the study, write docs/benchmarks.md,
docs/study.md and their figures (docs/img/*.png).

    liquid-control bench                       everything (what `make bench` runs)
    liquid-control bench --quick --out /tmp/b  the seconds-long smoke CI runs
    liquid-control bench --only step_latency   one benchmark; documents re-rendered with the
                                               other benchmarks' last results
    liquid-control bench --render-only         run nothing: re-write the documents from the
                                               last results (e.g. after a study run task by
                                               task)

Benchmarks run one after the other, the timing ones first while nothing else of ours runs;
the study then uses `--workers` processes (default 2, the core count) or Ray (`--backend ray`).
"""
from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from liquid_control.runtime.contract import ARCHS
from liquid_control_tools.study.backends import BACKENDS

from . import BENCHMARKS, PERFORMANCE

HELP = 'measure step latency, loop timing, latency, CPU, training cost and the liquid-vs-GRU ' \
       'study; write docs/benchmarks.md and docs/study.md'


def add_arguments(parser):
    parser.add_argument('--quick', action='store_true',
                        help='seconds-long smoke of every benchmark (figures not representative)')
    parser.add_argument('--only', nargs='+', choices=BENCHMARKS, metavar='NAME',
                        help=f'run only these ({", ".join(BENCHMARKS)}); the documents use the '
                             'last results of the others')
    parser.add_argument('--skip', nargs='+', choices=BENCHMARKS, metavar='NAME', default=[],
                        help='run all but these')
    parser.add_argument('--render-only', action='store_true',
                        help='run nothing; re-write the documents from the last results')
    parser.add_argument('--out', default=None,
                        help='folder for benchmarks.md, study.md and img/ (default: docs/ of the '
                             'source tree)')
    parser.add_argument('--results', default=None,
                        help='folder for the raw JSON results (default: runs/bench, or '
                             '<out>/results with --out)')
    parser.add_argument('--models', default=None,
                        help='folder of the shipped models (default: models/ of the source tree)')
    parser.add_argument('--workers', type=int, default=2,
                        help='processes for the study (default 2; with --backend ray and no '
                             '--ray-address: the CPUs of the local Ray)')
    parser.add_argument('--tasks', nargs='+', metavar='TASK',
                        help='study: the tasks to compare on (default: every installed task '
                             'with an expert and models in --models)')
    parser.add_argument('--archs', nargs='+', choices=ARCHS, metavar='ARCH',
                        help=f'study: the architectures (default: all, {", ".join(ARCHS)})')
    parser.add_argument('--backend', choices=BACKENDS, default='pool',
                        help='study: where its jobs run: local processes (default) or Ray '
                             '(pip install .[cluster])')
    parser.add_argument('--ray-address', default=None,
                        help="study with --backend ray: the cluster ('auto', or host:port); "
                             'default: a local Ray with --workers CPUs')


def run(args):
    from liquid_control.tasks import get_task

    from .common import REPO, Context, load_result, save_result

    for name in args.tasks or []:
        try:
            get_task(name)
        except ValueError as exc:
            print(f'liquid-control bench: {exc}', file=sys.stderr)
            return 2

    out = Path(args.out) if args.out else REPO / 'docs'
    results_dir = Path(args.results) if args.results else (
        out / 'results' if args.out else REPO / 'runs' / 'bench')
    ctx = Context(quick=args.quick, out_dir=out, results_dir=results_dir,
                  models_dir=Path(args.models) if args.models else REPO / 'models',
                  workers=max(1, args.workers), log=_log, tasks=args.tasks,
                  archs=args.archs, backend=args.backend, ray_address=args.ray_address)
    selected = [] if args.render_only else [b for b in (args.only or BENCHMARKS)
                                            if b not in args.skip]
    _log(f'bench: {", ".join(selected) or "nothing to run"}{" (quick)" if ctx.quick else ""}; '
         'results in '
         f'{ctx.results_dir}, documents in {ctx.out_dir}')
    if not args.only and not args.render_only:
        # A full run starts from scratch: a benchmark that fails leaves no stale figures.
        for name in selected:
            (ctx.results_dir / f'{name}.json').unlink(missing_ok=True)
    failed = []
    for name in selected:
        started = time.perf_counter()
        load_before = os.getloadavg()[0]
        try:
            module = importlib.import_module(f'{__package__}.{name}')
            result = module.run(ctx)
            result['loadavg_1min_start'] = load_before
            result['run_seconds'] = time.perf_counter() - started
            save_result(ctx, name, result)
            _log(f'bench: {name} done in {time.perf_counter() - started:.0f} s')
        except Exception:
            failed.append(name)
            _log(f'bench: {name} FAILED\n{traceback.format_exc()}')
    results = {name: load_result(ctx, name) for name in BENCHMARKS}
    from .report import benchmarks_md
    from liquid_control_tools.study.report import study_md
    written = []
    if any(results[n] for n in PERFORMANCE):
        written.append(benchmarks_md(results, ctx.out_dir))
    if results['study']:
        written.append(study_md(results['study'], ctx.out_dir))
    for path in written:
        _log(f'bench: wrote {path}')
    if failed:
        _log(f'bench: failed: {", ".join(failed)}')
        return 1
    return 0


def _log(message):
    print(message, flush=True)


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(prog='liquid-control bench', description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
