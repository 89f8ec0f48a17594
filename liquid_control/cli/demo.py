"""`liquid-control demo`: a controller in closed loop with the MuJoCo simulator over ROS 2.

Starts sim_node and controller_node as separate processes on a private DDS domain (this
host only), shows progress, records every topic into a rosbag2 MCAP bag, then prints a
summary and writes runs/<timestamp>/ with the bag, a PNG plot, summary.json/.txt and the
processes' logs.
"""
from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from liquid_control.control.path_features import wrap_angle
from liquid_control.runtime.contract import ARCHS
from liquid_control.tasks import DEFAULT_TASK, task_names

HELP = ('Run a controller (cfc | ltc | ncp | gru | expert; mlp | mlp_stack | lstm once trained) '
        'against the MuJoCo simulator over ROS 2; record an MCAP bag, plot, summarise.')

CONTROLLERS = (*ARCHS, 'expert')
DEFAULT_DURATION_S = 30.0


def add_arguments(parser):
    parser.add_argument('--task', choices=task_names(), default=DEFAULT_TASK,
                        help=f'an installed task (default {DEFAULT_TASK})')
    parser.add_argument('--controller', choices=CONTROLLERS, default='cfc',
                        help='model <task>_<controller> (shipped, or trained into models/), '
                        'or the task\'s expert')
    parser.add_argument('--model', default='',
                        help='ONNX file (or model name) to run instead of the shipped one')
    parser.add_argument('--duration', type=float, default=None,
                        help='run length in seconds of sim time (default 30, or the task\'s '
                        'longest episode if longer); the run also ends when the task ends '
                        'the episode')
    parser.add_argument('--mode', choices=('realtime', 'lockstep'), default='realtime',
                        help='realtime (default), or lockstep: deterministic, as fast as the '
                        'controller answers (sim_node\'s `fast` mode does not wait for a '
                        'controller, so it is not offered for a closed loop)')
    parser.add_argument('--clock', choices=('wall', 'sim'), default=None,
                        help='controller loop clock: wall (default in realtime: its own '
                        'real-time loop) or sim (use_sim_time; always in lockstep)')
    parser.add_argument('--seed', type=int, default=0, help='episode start state and noise')
    parser.add_argument('--noise', type=float, default=0.0, metavar='STD',
                        help='sensor noise std on positions (m, rad); velocities get 5x')
    parser.add_argument('--latency', type=float, default=0.0, metavar='S',
                        help='sensor latency, seconds of sim time')
    parser.add_argument('--drop', type=float, default=0.0, metavar='P',
                        help='probability of dropping each sensor message')
    parser.add_argument('--push', type=float, default=0.0, metavar='FRACTION',
                        help="a random load on the actuators, as a fraction of each one's half "
                             'range (sim_node actuator_noise_std); the commands are recorded '
                             'as sent')
    parser.add_argument('--physics', action='append', default=[], metavar='NAME=SCALE',
                        help='physics change, e.g. pole_mass_scale=1.5 (repeatable)')
    parser.add_argument('--runs-dir', default='runs', help='where runs/<timestamp>/ goes')
    parser.add_argument('--domain-id', type=int, default=None,
                        help='DDS domain (default: a free private one, held for the run)')
    parser.add_argument('--quiet', action='store_true', help='no progress display')


def _physics(items):
    out = {}
    for item in items:
        name, sep, value = item.partition('=')
        try:
            out[f'physics.{name.strip()}'] = float(value)
        except ValueError:
            sep = ''
        if not sep:
            raise SystemExit(f'liquid-control demo: --physics takes NAME=SCALE, got {item!r}')
    return out


def realtime_note(summary):
    """A hint when a real-time run could not keep up with the wall clock, or ''."""
    sim = summary.get('simulator', {})
    if sim.get('mode') != 'realtime':
        return ''
    try:
        rtf = float(sim.get('real_time_factor', 1.0))
        overruns = int(sim.get('realtime_overruns', 0))
    except ValueError:
        return ''
    trips = summary.get('loop_timing', {}).get('watchdog_trips', 0)
    if rtf >= 0.9 and not overruns and not trips:
        return ''
    return (f'this machine did not keep real time (real-time factor {rtf:.2f}, '
            f'{overruns} simulator overrun(s), {trips} controller watchdog trip(s)), so the '
            f'result reflects its load. `--mode lockstep` runs the same closed loop exactly, '
            f'as fast as the machine allows.')


def _model_problem(task, controller, model):
    """Why the controller's model cannot be loaded (found the way the node finds it), or
    ''."""
    from liquid_control.runtime import ModelContractError, resolve_model
    spec = model or f'{task}_{controller}'
    try:
        resolve_model(spec)
    except ModelContractError as exc:
        return (f'{exc}. The shipped models come from `make models`; give another with '
                f'--model PATH, or run the task\'s expert with --controller expert.')
    return ''


class Progress:
    """One status line, rewritten in place on a terminal; a line per 5 s otherwise."""

    def __init__(self, session, duration, stream=sys.stdout, quiet=False):
        self.session = session
        self.duration = duration
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self._last_line = 0.0
        self._start_sim = None

    def line(self):
        live = self.session.live
        sim = live.sim_status
        # The live clock against the episode start the simulator reports (1 Hz).
        episode_t = 0.0
        if sim.get('running') == 'true':
            episode_t = max(live.sim_time - float(sim.get('episode_start', live.sim_time)), 0.0)
            if sim.get('finished') == 'true':
                episode_t = float(sim.get('episode_time', episode_t))
        frac = min(episode_t / self.duration, 1.0) if self.duration > 0 else 0.0
        bar = '#' * int(frac * 20) + '.' * (20 - int(frac * 20))
        what = 'waiting for the controller' if not live.commands else self.status(live.signals)
        command = ' '.join(f'{v:+.2f}' for v in live.command)
        ctrl = live.controller_status
        timing = (f'  p99 {float(ctrl["period_error_p99_us"]):.0f} us'
                  if 'period_error_p99_us' in ctrl else '')
        return (f'[{bar}] {episode_t:5.1f}/{self.duration:g} s  {what}  cmd {command}  '
                f'{live.commands} cmds{timing}')

    def status(self, signals):
        """The task's status signals (Task.plot.status), e.g. 'cart +0.12 m  pole -0.05 rad'."""
        plot = self.session.task.plot
        parts = []
        for name, label, unit in plot.status:
            if name in signals:
                value = signals[name]
                if name in plot.wrap:
                    value = wrap_angle(value)
                parts.append(f'{label} {value:+.2f} {unit}')
        return '  '.join(parts)

    def __call__(self, force=False):
        if self.quiet:
            return
        now = time.monotonic()
        if self.tty:
            if force or now - self._last_line >= 0.2:
                self._last_line = now
                self.stream.write('\r' + self.line()[:150].ljust(150))
                self.stream.flush()
        elif force or now - self._last_line >= 5.0:
            self._last_line = now
            self.stream.write(self.line() + '\n')
            self.stream.flush()

    def done(self):
        if not self.quiet and self.tty:
            self.stream.write('\n')


def run(args):
    from liquid_control.bringup.session import ProcessFailed, SimSession
    from liquid_control.recording.analysis import format_summary, load_run, summarize_run
    from liquid_control.recording.plot import plot_run
    from liquid_control.tasks import get_task

    if args.controller != 'expert':
        problem = _model_problem(args.task, args.controller, args.model)
    elif not get_task(args.task).has_expert:
        problem = f'task {args.task} has no expert; run one of its models instead'
    else:
        problem = ''
    if problem:
        print(f'liquid-control demo: {problem}', file=sys.stderr)
        return 2
    stamp = datetime.now().strftime('%Y%m%d-%H%M%S')
    run_dir = Path(args.runs_dir) / stamp
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = Path(args.runs_dir) / f'{stamp}-{suffix}'
    sim_params = {
        'position_noise_std': args.noise, 'velocity_noise_std': 5.0 * args.noise,
        'sensor_latency_s': args.latency, 'drop_probability': args.drop,
        'actuator_noise_std': args.push,
        **_physics(args.physics)}
    clock = args.clock
    if clock == 'wall' and args.mode != 'realtime':
        print('liquid-control demo: --clock wall needs --mode realtime', file=sys.stderr)
        return 2
    if args.duration is None:
        args.duration = max(DEFAULT_DURATION_S, get_task(args.task).episode_seconds)
    session = SimSession(run_dir, task=args.task, controller=args.controller,
                         model=args.model, mode=args.mode, duration=args.duration,
                         seed=args.seed, controller_clock=clock, sim_params=sim_params,
                         domain_id=args.domain_id)
    what = Path(args.model).stem if args.model else (
        f'{args.task}_{args.controller}' if args.controller != 'expert' else f'{args.task} expert')
    print(f'liquid-control demo: {what} on {args.task}, {args.duration:g} s in {args.mode} mode '
          f'(controller on the {session.controller_clock} clock), ROS_DOMAIN_ID '
          f'{session.domain_id} (localhost only)')
    print(f'writing {run_dir}/')
    progress = Progress(session, args.duration, quiet=args.quiet)
    finished = False
    error = None
    try:
        session.start()
        finished = session.run_to_end(on_poll=progress)
        progress(force=True)
    except ProcessFailed as exc:
        error = str(exc)
    except KeyboardInterrupt:
        error = 'interrupted'
    finally:
        progress.done()
        codes = session.stop()
    if error:
        print(f'liquid-control demo: {error}', file=sys.stderr)
    if not finished and not error:
        print('liquid-control demo: the episode did not finish in time; summarising what was '
              'recorded', file=sys.stderr)
    if session.recording_error:
        print(f'liquid-control demo: the recording is incomplete: {session.recording_error} '
              f'({session.bag_path})', file=sys.stderr)
        return 1
    if not session.bag_path.exists():
        return 1
    data = load_run(session.bag_path, args.task)
    summary = summarize_run(data, session.bag_path)
    summary.update(controller=args.controller, model=args.model or None, mode=args.mode,
                   controller_clock=session.controller_clock, duration_s=args.duration,
                   seed=args.seed, exit_codes=codes, finished=finished)
    plot = run_dir / 'plot.png'
    if data.signals:
        plot_run(data, plot, title=f'{what} on {args.task} ({args.mode}, seed {args.seed})')
        summary['plot'] = str(plot)
    text = format_summary(summary, title=f'{what} on {args.task}')
    (run_dir / 'summary.json').write_text(json.dumps(summary, indent=2, default=str) + '\n')
    (run_dir / 'summary.txt').write_text(text + '\n')
    print()
    print(text)
    print()
    if 'plot' in summary:
        print(f'plot       {plot}')
    print(f'recording  {session.bag_path}   (ros2 bag info {session.bag_path}; open the .mcap '
          f'in Foxglove or PlotJuggler)')
    print(f'logs       {run_dir}/sim_node.log, {run_dir}/controller.log')
    note = realtime_note(summary)
    if note:
        print(f'\nnote: {note}')
    commands_ok = summary['commands']['non_finite'] == 0 and \
        summary['commands']['out_of_limits'] == 0
    return 0 if finished and not error and commands_ok else 1
