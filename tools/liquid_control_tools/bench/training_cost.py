"""Training cost per shipped model: training wall time and CPU time (from its model card,
written by `liquid-control train`), trainable parameters and the size of the exported ONNX
file. On a shared machine the CPU time is the steadier figure: wall time includes waiting
for the cores.

A model that is not in models/ gets its export size from an untrained export of the same
graph (the size does not depend on the weights' values) and no training time.
"""
from __future__ import annotations

import re

from .common import ARCHS

WALL_TIME = re.compile(r'training wall time:\s*([0-9.]+)\s*s\b')
CPU_TIME = re.compile(r'training wall time:[^\n]*?\(([0-9.]+)\s*s of CPU\)')
THREADS = re.compile(r'training wall time:[^\n]*?\bon\s+(\d+)\s+(?:CPU\s+)?thread')
SUCCESS = re.compile(r'\| this model \(ONNX runtime\) \| (\d+)/(\d+)')


def read_card(path):
    """Training wall time, CPU time and threads, and the card's own success count, as far as
    the model card states them."""
    out = {}
    if not path.is_file():
        return out
    text = path.read_text()
    for key, pattern, kind in (('train_seconds', WALL_TIME, float),
                               ('train_cpu_seconds', CPU_TIME, float),
                               ('threads', THREADS, int)):
        m = pattern.search(text)
        if m:
            out[key] = kind(m.group(1))
    m = SUCCESS.search(text)
    if m:
        out.update(card_successes=int(m.group(1)), card_episodes=int(m.group(2)))
    return out


def run(ctx):
    from liquid_control.runtime import load_controller

    rows = []
    for task in ctx.study_tasks():
        for arch in ARCHS:
            path, source = ctx.model(task, arch)
            meta = load_controller(path).metadata
            row = {'task': task, 'arch': arch, 'model_source': source,
                   'export_bytes': path.stat().st_size, 'n_params': meta.n_params,
                   'n_state': meta.n_state}
            if source == 'shipped':
                row.update(read_card(path.with_suffix('.md')))
                row['seed'] = meta.seed
            rows.append(row)
    ctx.log('training cost: ' + ', '.join(
        f'{r["task"]}_{r["arch"]} {r.get("train_seconds", float("nan")):.0f} s '
        f'{r["export_bytes"] / 1024:.0f} KiB' for r in rows))
    return {'rows': rows}
