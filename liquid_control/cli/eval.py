"""`liquid-control eval`: run an ONNX controller in closed loop in the ROS-free simulator and
print its success rate (95% interval), return and tracking error beside the expert's figures
on the very same episodes.

    liquid-control eval --model cartpole_cfc --episodes 100 --obs-noise 0.05 --dt-jitter 0.25
"""
from __future__ import annotations

import sys

HELP = 'evaluate a model in closed loop in the MuJoCo simulator, beside the expert'


def _physics_item(text):
    key, sep, value = text.partition('=')
    if not sep:
        raise ValueError(f'--physics takes KEY=SCALE, got {text!r}')
    return key.strip(), float(value)


def add_arguments(parser):
    parser.add_argument('--model', required=True,
                        help='model file, or a name such as cartpole_cfc')
    parser.add_argument('--task', default=None,
                        help="the simulated task to run it in (default: the model's own task; "
                             'a model trained from bags names its robot instead)')
    parser.add_argument('--episodes', type=int, default=100, help='episodes (default 100)')
    parser.add_argument('--seed', type=int, default=0,
                        help='episode seed; every model sees the same episodes for one seed')
    parser.add_argument('--obs-noise', type=float, default=0.0,
                        help="Gaussian observation noise as a fraction of each signal's "
                             'typical spread (default 0)')
    parser.add_argument('--dt-jitter', type=float, default=0.0,
                        help='control period jitter: each period is nominal*(1+U(-F,F)), '
                             'F in [0, 1) (default 0)')
    parser.add_argument('--rate', type=float, default=None,
                        help='control rate in Hz (default: the rate the model was trained at)')
    parser.add_argument('--delay', type=int, default=0,
                        help='actuator delay in control ticks (default 0)')
    parser.add_argument('--physics', action='append', default=[], metavar='KEY=SCALE',
                        help='physics change, e.g. pole_mass_scale=1.3 (repeatable)')
    parser.add_argument('--no-expert', action='store_true', help='skip the expert baseline')


def _row(name, summary):
    low, high = summary['success_ci95']
    return (f'{name:10s} {summary["successes"]:4d}/{summary["episodes"]:<4d} '
            f'{summary["success_rate"]:7.1%}  [{low:6.1%}, {high:6.1%}]  '
            f'{summary["mean_return"]:9.3f}  {summary["mean_tracking_error"]:10.4f}  '
            f'{summary["mean_max_tracking_error"]:10.4f}')


def run(args):
    from liquid_control.runtime import load_controller, resolve_model
    from liquid_control.sim.episode import evaluate
    from liquid_control.tasks import get_task
    from liquid_control.training.evaluation import SessionController

    if args.episodes < 1:
        print('liquid-control eval: --episodes must be >= 1', file=sys.stderr)
        return 2
    if args.rate is not None and not args.rate > 0:
        print(f'liquid-control eval: --rate must be > 0 Hz, got {args.rate}', file=sys.stderr)
        return 2
    try:
        physics = dict(_physics_item(item) for item in args.physics) or None
    except ValueError as exc:
        print(f'liquid-control eval: {exc}', file=sys.stderr)
        return 2
    path = resolve_model(args.model)
    session = load_controller(path)
    try:
        task = get_task(args.task or session.metadata.task)
    except ValueError as exc:
        what = f'--task: {exc}' if args.task else f'{path} was made for {exc}; give --task'
        print(f'liquid-control eval: {what}', file=sys.stderr)
        return 2
    if tuple(session.metadata.obs_names) != task.obs_names or \
            tuple(session.metadata.action_names) != task.action_names:
        print(f'liquid-control eval: {path} does not fit task {task.name}: it reads '
              f'{list(session.metadata.obs_names)} and writes '
              f'{list(session.metadata.action_names)}, the task observes '
              f'{list(task.obs_names)} and takes {list(task.action_names)}', file=sys.stderr)
        return 2
    if not args.no_expert and not task.has_expert:
        print(f'(task {task.name} has no expert: no baseline row)')
        args.no_expert = True
    nominal_dt = 1.0 / args.rate if args.rate else session.metadata.nominal_dt
    conditions = dict(nominal_dt=nominal_dt, obs_noise=args.obs_noise,
                      dt_jitter=args.dt_jitter, action_delay=args.delay)
    try:
        env_factory = (lambda: task.make_env(physics))
        env_factory()  # reject unknown physics keys before running episodes
    except ValueError as exc:
        print(f'liquid-control eval: {exc}', file=sys.stderr)
        return 2
    print(f'{path} ({session.metadata.arch}, task {task.name}): {args.episodes} episodes, seed '
          f'{args.seed}, rate {1.0 / nominal_dt:g} Hz, obs noise {args.obs_noise:g}, '
          f'dt jitter {args.dt_jitter:g}, delay {args.delay} ticks, physics {physics or "nominal"}')
    controller = SessionController(session)
    model = evaluate(env_factory, lambda: controller, args.episodes, args.seed, **conditions)
    header = (f'{"":10s} {"success":>9s} {"rate":>7s}  {"95% interval":^16s}  {"return":>9s}  '
              f'{"track err":>10s}  {"max track":>10s}')
    print(header)
    print(_row(session.metadata.arch, model.summary))
    if not args.no_expert:
        expert = evaluate(env_factory, task.make_expert, args.episodes, args.seed,
                          **conditions)
        print(_row('expert', expert.summary))
    what = task.tracking_error or 'as the task defines it'
    print(f'tracking error = {what}; rejected steps: {session.rejected}')
    return 0
