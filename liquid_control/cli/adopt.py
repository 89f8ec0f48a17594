"""`liquid-control adopt`: wrap an ONNX policy trained elsewhere so the node can run it."""
from __future__ import annotations

import sys

HELP = ('wrap an ONNX policy trained elsewhere (feed-forward, or recurrent with its state as '
        'inputs and outputs) into the model contract, without retraining')


def _names(text):
    return [n.strip() for n in text.split(',') if n.strip()]


def _numbers(text):
    try:
        return [float(v) for v in _names(text)]
    except ValueError:
        raise SystemExit(f'liquid-control adopt: {text!r} is not a comma-separated list of '
                         'numbers') from None


def add_arguments(parser):
    parser.add_argument('policy', help='the ONNX policy to adopt')
    parser.add_argument('--out', required=True, help='the contract file to write (.onnx); '
                        'its model card is written beside it')
    parser.add_argument('--config', help='YAML with the keys below (options override it); see '
                        'docs/your_robot.md')
    parser.add_argument('--obs-names', type=_names, help='observation names, comma-separated, '
                        "in the policy's input order (as the node's configuration produces "
                        'them)')
    parser.add_argument('--action-names', type=_names, help='action names, comma-separated')
    parser.add_argument('--action-low', type=_numbers, help='lower limit per action')
    parser.add_argument('--action-high', type=_numbers, help='upper limit per action')
    parser.add_argument('--nominal-dt', type=float, help='control period it runs at, s')
    parser.add_argument('--arch', help='a short name for what it is (mlp, lstm, ...; '
                        'default mlp)')
    parser.add_argument('--task', help='what it was trained for (informative)')
    parser.add_argument('--obs-input', help='its observation input (default: its one '
                        'non-state input)')
    parser.add_argument('--action-output', help='its action output (default: its one '
                        'non-state output)')
    parser.add_argument('--state', action='append', metavar='IN:OUT',
                        help='a recurrent state input and the output that continues it '
                        '(repeat for each: h and c of an LSTM)')
    parser.add_argument('--obs-offset', type=_numbers, help='policy input = (obs - offset) '
                        '* scale')
    parser.add_argument('--obs-scale', type=_numbers)
    parser.add_argument('--action-scale', type=_numbers, help='action = output * scale + '
                        'offset, then clipped to the limits')
    parser.add_argument('--action-offset', type=_numbers)


def run(args):
    from liquid_control.adoption import AdoptError, AdoptSpec, adopt
    options = {key: getattr(args, key) for key in (
        'obs_names', 'action_names', 'action_low', 'action_high', 'nominal_dt', 'arch', 'task',
        'obs_input', 'action_output', 'state', 'obs_offset', 'obs_scale', 'action_scale',
        'action_offset')}
    try:
        spec = AdoptSpec.from_sources(args.config, **options)
        adopted = adopt(args.policy, spec, args.out)
    except AdoptError as exc:
        print(f'liquid-control adopt: {exc}', file=sys.stderr)
        return 2
    m = adopted.metadata
    print(f'{adopted.path}: {m.arch}, {m.n_obs} observations -> {m.n_act} action(s), state '
          f'{m.n_state}; matches the original to {adopted.max_error:.2g}; card '
          f'{adopted.path.with_suffix(".md")}')
    return 0
