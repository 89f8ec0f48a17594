"""All reliability runs in one go, their results on disk, and docs/reliability.md from them."""
from __future__ import annotations

import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

from .harness import REPO, isolate_ros

PARTS = ('integrity', 'fuzz', 'paths', 'faults', 'long', 'mutation')
DEFAULT_RESULTS = REPO / 'runs' / 'reliability' / 'results.json'
DEFAULT_DOC = REPO / 'docs' / 'reliability.md'


def models_dir_default():
    return REPO / 'models'


def model_for(task, models_dir):
    """(path or None, label): a shipped model of the task (CfC first), or None for a probe."""
    for arch in ('cfc', 'ncp', 'ltc', 'gru'):
        path = Path(models_dir) / f'{task}_{arch}.onnx'
        if path.is_file():
            return path, f'shipped {path.name}'
    return None, 'probe model (no shipped model yet): a seeded recurrent contract model'


def run_integrity(models_dir=None):
    from liquid_control.runtime import integrity
    models_dir = Path(models_dir or models_dir_default())
    entries = integrity.verify_directory(models_dir) if models_dir.is_dir() else []
    return {'models_dir': str(models_dir), 'models': entries,
            'verified': sum(e['ok'] for e in entries), 'total': len(entries)}


def _machine():
    return {'python': platform.python_version(), 'machine': platform.machine(),
            'cores': os.cpu_count(), 'load_1min_at_start': round(os.getloadavg()[0], 2)}


def run_all(fuzz_cases=2000, long_s=1800.0, rate_hz=500.0, models_dir=None, only=None,
            results_path=None, doc_path=None, log=print, seed=0):
    """Run the selected parts (all by default) and write the results and the document.

    Parts not run keep their previous results from `results_path`, so the document stays
    whole after a partial run. Returns the results dict.
    """
    isolate_ros()
    models_dir = Path(models_dir or models_dir_default())
    results_path = Path(results_path or DEFAULT_RESULTS)
    doc_path = Path(doc_path or DEFAULT_DOC)
    results = {}
    if results_path.is_file():
        results = json.loads(results_path.read_text())
    selected = [p for p in PARTS if only is None or p in only]
    results['machine'] = _machine()
    for part in selected:
        started = time.monotonic()
        log(f'reliability: {part} ...')
        if part == 'integrity':
            out = run_integrity(models_dir)
        elif part == 'fuzz':
            from .fuzz import run_fuzz
            out = {}
            for task in ('cartpole', 'diffdrive'):
                model, label = model_for(task, models_dir)
                out[task] = run_fuzz(cases=fuzz_cases, task=task, model=model, seed=seed,
                                     log=log, shrink=True)
                out[task]['model'] = label
        elif part == 'paths':
            from .paths import run_path_cost
            out = run_path_cost()
        elif part == 'faults':
            from .faults import run_faults
            model, label = model_for('cartpole', models_dir)
            out = run_faults(model=model, log=log)
            out['model'] = label
        elif part == 'mutation':
            from .mutation import run_mutation
            out = run_mutation(log=log)
        else:
            from .longrun import run_long
            model, label = model_for('cartpole', models_dir)
            out = run_long(duration_s=long_s, rate_hz=rate_hz, model=model, log=log)
            out['model'] = label
        out['run_at'] = datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
        out['run_seconds'] = round(time.monotonic() - started, 1)
        results[part] = out
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=1, default=str))
        log(f'reliability: {part} done in {out["run_seconds"]:.0f} s')
    from .report import render, splice
    text = render(results)
    if doc_path.is_file() and any(p not in results for p in PARTS):
        # Results of other parts are not here: keep their sections of the document.
        text = splice(doc_path.read_text(), text, selected)
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    doc_path.write_text(text)
    log(f'reliability: results {results_path}, document {doc_path}')
    return results


def all_passed(results):
    """True when every part that ran met its required properties."""
    ok = True
    fuzz = results.get('fuzz') or {}
    for figures in fuzz.values():
        if isinstance(figures, dict) and 'cases' in figures:
            ok &= (figures['failure'] is None and figures['crashes'] == 0
                   and figures['non_finite_commands'] + figures['out_of_limit_commands']
                   + figures['malformed_commands'] == 0)
    if 'faults' in results:
        ok &= results['faults']['survived'] == results['faults']['total']
    if 'long' in results:
        ok &= bool(results['long'].get('survived'))
    if 'integrity' in results:
        ok &= results['integrity']['verified'] == results['integrity']['total']
    if 'mutation' in results:
        from .report import MUTATION_TARGET
        score = results['mutation']['score']
        ok &= score is not None and score >= MUTATION_TARGET
    return ok
