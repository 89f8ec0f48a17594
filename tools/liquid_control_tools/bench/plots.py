"""PNG figures of the benchmark results (matplotlib, Agg backend: no display needed)."""
from __future__ import annotations

import numpy as np

from .common import ARCH_LABELS, ARCHS

COLOURS = {'cfc': 'tab:blue', 'ltc': 'tab:orange', 'ncp': 'tab:green', 'gru': 'tab:red',
           'mlp': 'tab:gray', 'mlp_stack': 'tab:brown', 'lstm': 'tab:purple', 'expert': 'black'}
LEVEL_FORMAT = {'observation noise': '{:g}%', 'dt jitter': '±{:g}%', 'control rate': '{:g} Hz',
                'actuator delay': '{:g} ticks', 'sensor dropouts': '{:g}%',
                'event-driven sampling': '{:g}'}
STUDY_ORDER = ('cfc', 'ltc', 'ncp', 'gru', 'lstm', 'mlp_stack', 'mlp')
MARKERS = {'cfc': 'o', 'ltc': 's', 'ncp': '^', 'gru': 'D', 'mlp': 'v', 'mlp_stack': 'P',
           'lstm': '*', 'expert': 'x'}


def _plt():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def step_latency(result, path):
    """Median (bar) and p99 (whisker) per arch and implementation, log scale."""
    plt = _plt()
    impls = ('runtime', 'ort', 'torch', 'torch_deploy', 'numpy')
    labels = {'runtime': 'runtime (ControllerSession.step)', 'ort': 'onnxruntime alone',
              'torch': 'torch eager', 'torch_deploy': 'torch eager, deploy form',
              'numpy': 'numpy (GRU)'}
    colours = {'runtime': 'tab:blue', 'ort': 'tab:cyan', 'torch': 'tab:grey',
               'torch_deploy': 'silver', 'numpy': 'tab:olive'}
    archs = [a for a in ARCHS if a in result['archs']]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.16
    for j, impl in enumerate(impls):
        xs, med, p99 = [], [], []
        for i, arch in enumerate(archs):
            row = result['archs'][arch].get(impl)
            if row:
                xs.append(i + (j - 2) * width)
                med.append(row['p50'])
                p99.append(row['p99'])
        if xs:
            ax.bar(xs, med, width, color=colours[impl], label=labels[impl])
            ax.errorbar(xs, med, yerr=[np.zeros(len(med)), np.array(p99) - np.array(med)],
                        fmt='none', ecolor='black', capsize=3, lw=1)
    ax.set_yscale('log')
    ax.set_xticks(range(len(archs)), [ARCH_LABELS[a] for a in archs])
    ax.set_ylabel('µs per step (bar: median, whisker: p99)')
    ax.set_title('Controller step latency, batch 1, one thread')
    ax.grid(axis='y', which='both', alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def loop_timing(result, path):
    plt = _plt()
    rows = result['rows']
    subjects = [s for s in (('node', 'tab:blue', 'controller node'),
                            ('node_normal', 'tab:purple', 'node, thread_priority 0'),
                            ('timer', 'tab:grey', 'plain rclpy timer'),
                            ('bare', 'tab:green', 'bare loop (Python, no rclpy)'),
                            ('c_loop', 'tab:orange', 'bare loop in C')) if s[0] in rows[0]]
    fig, ax = plt.subplots(figsize=(10.5, 4.5))
    x = np.arange(len(rows))
    width = 0.8 / len(subjects)
    for j, (subject, colour, label) in enumerate(subjects):
        p50 = np.array([r[subject]['p50_us'] for r in rows])
        p99 = np.array([r[subject]['p99_us'] for r in rows])
        xs = x + (j - (len(subjects) - 1) / 2) * width
        ax.bar(xs, np.maximum(p99, 0.01), width, color=colour, alpha=0.85, label=f'{label} p99')
        ax.scatter(xs, np.maximum(p50, 0.01), color='white', edgecolor='black', zorder=3,
                   label='p50' if j == 0 else None)
    ax.set_yscale('log')
    ax.set_xticks(x, [f'{r["rate_hz"]:g} Hz' for r in rows])
    ax.set_ylabel('period error, µs (log)')
    ax.set_title('Control-loop period error: the node, its floors, a plain timer')
    ax.grid(axis='y', which='both', alpha=0.3)
    ax.legend(fontsize=8, loc='upper left', bbox_to_anchor=(1.01, 1.0))
    return _save(fig, path)


def e2e_latency(result, path):
    plt = _plt()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2))
    medians = np.array(result['bin_median_us'], dtype=float)
    bins = len(medians)
    period_us = 1e6 / result['rate_hz']
    centres = (np.arange(bins) + 0.5) * period_us / bins
    ax0.bar(centres, medians, width=period_us / bins * 0.9, color='tab:blue')
    best = result['best_bin']
    ax0.bar(centres[best], medians[best], width=period_us / bins * 0.9, color='tab:green',
            label='phase-aligned bin')
    ax0.set_xlabel('publish time modulo the 2 ms control period, µs (origin arbitrary)')
    ax0.set_ylabel('median sensor → command latency, µs')
    ax0.set_title('Latency vs sensor phase')
    ax0.legend(fontsize=8)
    samples = np.array(result.get('samples_us') or [], dtype=float)
    if samples.size:
        ax1.hist(np.minimum(samples, 5000), bins=100, color='tab:blue')
        ax1.set_xlabel('sensor → command latency, µs (clipped at 5000)')
    else:
        ax1.text(0.5, 0.5, 'samples not kept in a quick run', ha='center', va='center')
    for q, style in (('p50', '--'), ('p99', ':')):
        ax1.axvline(result['unsynchronised_us'][q], color='black', ls=style, label=q)
    ax1.set_title(f'All messages at {result["rate_hz"]:g} Hz (free-running sensor)')
    ax1.legend(fontsize=8)
    return _save(fig, path)


def study_task(task, data, levels_of, path):
    """Success rate (95% Wilson interval) against the level of each disturbance."""
    plt = _plt()
    groups = [g for g in dict.fromkeys(c['group'] for c in data['conditions'])
              if g != 'nominal']
    cols = 3
    rows = int(np.ceil(len(groups) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    names = [n for n in (*STUDY_ORDER, 'expert') if n in data['models']]
    for ax, group in zip(axes.flat, groups):
        points = levels_of(task, group)
        for k, name in enumerate(names):
            xs, ys, lo, hi = [], [], [], []
            for i, (level, cid) in enumerate(points):
                cell = data['cells'].get(cid, {}).get(name)
                if cell is None:
                    continue
                xs.append(i + (k - (len(names) - 1) / 2) * 0.06)
                ys.append(100 * cell['success_rate'])
                lo.append(100 * (cell['success_rate'] - cell['success_ci95'][0]))
                hi.append(100 * (cell['success_ci95'][1] - cell['success_rate']))
            ax.errorbar(xs, ys, yerr=[lo, hi], marker=MARKERS[name], color=COLOURS[name],
                        label=ARCH_LABELS[name], capsize=2, lw=1.2, ms=4,
                        ls='--' if name == 'expert' else '-')
        ax.set_xticks(range(len(points)), [LEVEL_FORMAT.get(group, '×{:g}').format(level)
                                           for level, _ in points])
        ax.set_title(group)
        ax.set_ylim(-5, 105)
        ax.set_ylabel('success %')
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis('off')
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f'{task}: closed-loop success under disturbances (95% Wilson intervals)')
    return _save(fig, path)


def study_seeds(task, data, condition_ids, path):
    """Success per training seed (dots) and the mean over seeds (bar), per arch and condition."""
    plt = _plt()
    names = [a for a in STUDY_ORDER if a in data['seeds']]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(condition_ids) * len(names) / 3), 4))
    width = 0.8 / max(len(names), 1)
    for k, arch in enumerate(names):
        per_seed = data['seeds'][arch]
        for i, cid in enumerate(condition_ids):
            rates = [100 * cells[cid]['success_rate'] for cells in per_seed.values()
                     if cid in cells]
            if not rates:
                continue
            x = i + (k - (len(names) - 1) / 2) * width
            ax.bar(x, np.mean(rates), width * 0.9, color=COLOURS.get(arch, 'grey'), alpha=0.35,
                   label=ARCH_LABELS.get(arch, arch) if i == 0 else None)
            ax.scatter([x] * len(rates), rates, color=COLOURS.get(arch, 'grey'),
                       marker=MARKERS.get(arch, 'o'), s=12, zorder=3)
    ax.set_xticks(range(len(condition_ids)), condition_ids, rotation=30, fontsize=8)
    ax.set_ylim(-5, 105)
    ax.set_ylabel('success % (dot: one training seed; bar: mean)')
    ax.set_title(f'{task}: every training seed')
    ax.grid(alpha=0.3, axis='y')
    ax.legend(fontsize=7, ncol=4)
    return _save(fig, path)

