"""`liquid-control reliability`: fuzz the node's inputs, run the fault scenarios, check the
shipped models against their cards, run the long closed loop; write docs/reliability.md.

    liquid-control reliability                       everything: 2000 fuzz cases per task,
                                                     the 8 fault scenarios, 30 min at 500 Hz
    liquid-control reliability --quick               200 cases per task, 60 s long run
    liquid-control reliability --only fuzz faults    some parts; the document keeps the last
                                                     results of the others
    liquid-control reliability --only mutation       mutation testing of the safety core
                                                     (`make mutation`)

Exit code 0 when every part that ran met its required properties, 1 otherwise.
"""
from __future__ import annotations

HELP = 'fuzz the node inputs, fault scenarios, model integrity, a long closed-loop run and ' \
       'mutation testing; write docs/reliability.md'


def add_arguments(parser):
    from .suite import PARTS
    parser.add_argument('--fuzz-cases', type=int, default=None,
                        help='hypothesis cases per task (default 2000; 200 with --quick)')
    parser.add_argument('--long', type=float, default=None, metavar='SECONDS',
                        help='long-run duration (default 1800; 60 with --quick)')
    parser.add_argument('--rate', type=float, default=500.0,
                        help='long-run control rate in Hz (default 500)')
    parser.add_argument('--quick', action='store_true', help='the short version')
    parser.add_argument('--only', nargs='+', choices=PARTS, metavar='PART',
                        help=f'run only these parts ({", ".join(PARTS)})')
    parser.add_argument('--models', default=None,
                        help='folder of the shipped models (default: models/ of the source tree)')
    parser.add_argument('--results', default=None,
                        help='results JSON (default runs/reliability/results.json)')
    parser.add_argument('--doc', default=None, help='document (default docs/reliability.md)')
    parser.add_argument('--seed', type=int, default=0, help='hypothesis seed')


def run(args):
    from .suite import all_passed, run_all
    fuzz_cases = args.fuzz_cases or (200 if args.quick else 2000)
    long_s = args.long or (60.0 if args.quick else 1800.0)
    results = run_all(fuzz_cases=fuzz_cases, long_s=long_s, rate_hz=args.rate,
                      models_dir=args.models, only=args.only, results_path=args.results,
                      doc_path=args.doc, seed=args.seed,
                      log=lambda text: print(text, flush=True))
    return 0 if all_passed(results) else 1
