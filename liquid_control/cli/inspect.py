"""`liquid-control inspect MODEL`: what a model file is, by the contract, and how fast it steps."""
from __future__ import annotations

from liquid_control.runtime import contract as c
from liquid_control.runtime import load_controller, resolve_model
from liquid_control.runtime.step_timing import measure_step_time


def count_graph_parameters(path):
    """Number of values in the graph's float initializers, or None without the onnx package."""
    try:
        import onnx
    except ImportError:
        return None
    model = onnx.load(str(path), load_external_data=False)
    total = 0
    for init in model.graph.initializer:
        if init.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE):
            n = 1
            for d in init.dims:
                n *= d
            total += n
    return total


def describe(path, steps=2000):
    """The lines `inspect` prints for one model file."""
    session = load_controller(path)
    meta = session.metadata
    n_params = meta.n_params if meta.n_params is not None else count_graph_parameters(path)
    timing = measure_step_time(session, steps=steps)
    lines = [
        f'model        {path}',
        f'file sha256  {session.file_sha256}',
        f'contract     {meta.contract}',
        f'arch         {meta.arch}',
        f'task         {meta.task}',
        f'inputs       {c.INPUT_OBS} [1, {meta.n_obs}]  {c.INPUT_STATE} [1, {meta.n_state}]  '
        f'{c.INPUT_DT} [1, 1]  (float32)',
        f'outputs      {c.OUTPUT_ACTION} [1, {meta.n_act}]  {c.OUTPUT_STATE} [1, {meta.n_state}]'
        f'  (float32)',
        'observations ' + ', '.join(meta.obs_names),
        'actions      ' + ', '.join(f'{n} [{lo:g}, {hi:g}]' for n, lo, hi in
                                    zip(meta.action_names, meta.action_low, meta.action_high)),
        f'nominal dt   {meta.nominal_dt:g} s ({1.0 / meta.nominal_dt:g} Hz)',
        f'parameters   {n_params if n_params is not None else "unknown"}',
        f'seed         {meta.seed}',
        f'source       {meta.source_commit}',
        f'weights      sha256 {meta.weights_sha256}',
    ]
    lines += [f'{key[len(c.META_PREFIX):] if key.startswith(c.META_PREFIX) else key:12s} {value}'
              for key, value in sorted(meta.extra.items())]
    lines.append(f'step time    median {timing["median_us"]:.1f} us, p99 {timing["p99_us"]:.1f} us '
                 f'({timing["steps"]} steps, onnxruntime, 1 thread)')
    return lines


HELP = "show a model's contract, metadata, parameter count and step time"


def add_arguments(parser):
    parser.add_argument('model', help='model file, or a name such as cartpole_cfc')
    parser.add_argument('--steps', type=int, default=2000, help='steps timed (default 2000)')


def run(args):
    print('\n'.join(describe(resolve_model(args.model), steps=args.steps)))
    return 0
