"""docs/study.md: the liquid-vs-GRU study's tables, figures and the findings its numbers
support.

The findings are computed from the results by fixed rules, so a re-run states what its own
numbers show:
- a controller "beats" another in a cell only when the paired difference over the same
  episodes is significant by McNemar's exact test after Holm's correction over every
  liquid-vs-GRU comparison of the task (family-wise 5%); otherwise the difference is called
  within noise, whatever the point estimates;
- when extra training seeds were run (the `seeds` benchmark), an arch difference counts as
  an architecture effect only if the ranges of success over the seeds do not overlap.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import plots
from .common import ARCH_LABELS, ARCHS
from .report import f, measured_note, table
from .study import group_levels, mcnemar_p, mean_ci

ALPHA = 0.05
LIQUID = ('cfc', 'ltc', 'ncp')


def pct(cell):
    lo, hi = cell['success_ci95']
    return f'{100 * cell["success_rate"]:.0f} ({100 * lo:.0f}–{100 * hi:.0f})'


def holm(pvalues):
    """Holm-adjusted p-values (same order)."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (len(p) - rank) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


def comparisons(data):
    """Every liquid-vs-GRU paired comparison of one task: list of dicts with raw and Holm
    p-values (empty without a GRU)."""
    out = []
    names = [a for a in ARCHS if a in data['models']]
    if 'gru' not in names:
        return out
    for cond in data['conditions']:
        cells = data['cells'].get(cond['id'], {})
        gru = cells.get('gru')
        for arch in LIQUID:
            cell = cells.get(arch)
            if cell is None or gru is None:
                continue
            out.append({'condition': cond['id'], 'label': cond['label'], 'arch': arch,
                        'diff': cell['success_rate'] - gru['success_rate'],
                        'p': mcnemar_p(cell['success'], gru['success'])})
    if out:
        for c, adj in zip(out, holm([c['p'] for c in out])):
            c['p_holm'] = float(adj)
    return out


def _seed_range(seeds, task, arch, cid):
    cells = seeds['tasks'].get(task, {}).get('archs', {}).get(arch, {})
    rates = [v[cid]['success_rate'] for v in cells.values() if cid in v]
    return (min(rates), max(rates), len(rates)) if rates else None


def findings(task, data, seeds=None):
    """Bullet points the numbers of one task support."""
    out = []
    names = [a for a in ARCHS if a in data['models']]
    cells = data['cells']
    labels = {c['id']: c['label'] for c in data['conditions']}
    nominal = cells.get('nominal', {})
    if nominal:
        expert = nominal.get('expert')
        out.append('Nominal conditions: ' + ', '.join(
            f'{ARCH_LABELS[a]} {pct(nominal[a])}' for a in names if a in nominal)
            + (f'; expert {pct(expert)}' if expert else '') + ' (success %, 95% interval).')
    comps = comparisons(data)
    sig = [c for c in comps if c['p_holm'] < ALPHA]
    if comps:
        if not sig:
            out.append(f'No liquid network differs from the GRU in success rate in any of the '
                       f'{len(comps)} paired comparisons (McNemar, Holm-corrected 5%): every '
                       f'gap in the tables is within episode-sampling noise.')
        for who, cond_list in (('liquid', [c for c in sig if c['diff'] > 0]),
                               ('gru', [c for c in sig if c['diff'] < 0])):
            if not cond_list:
                continue
            parts = [f'{ARCH_LABELS[c["arch"]]} in {c["label"]} ({100 * c["diff"]:+.0f} pts, '
                     f'Holm p={c["p_holm"]:.2g})' for c in cond_list]
            if who == 'liquid':
                out.append('Liquid network better than the GRU beyond episode noise: '
                           + '; '.join(parts) + '.')
            else:
                out.append('**GRU better** than a liquid network beyond episode noise: '
                           + '; '.join(f'GRU over {p}' for p in parts) + '.')
        close = [c for c in comps if c['p_holm'] >= ALPHA and abs(c['diff']) >= 0.1]
        if close:
            out.append('Gaps of 10 points or more that are still within noise (overlapping '
                       'evidence, not a result): ' + '; '.join(
                           f'{ARCH_LABELS[c["arch"]]} vs GRU in {c["label"]} '
                           f'{100 * c["diff"]:+.0f} pts' for c in close) + '.')
    # Robustness: mean success over the disturbed conditions, and the worst one.
    disturbed = [c['id'] for c in data['conditions'] if c['id'] != 'nominal']
    summary = []
    for a in names + (['expert'] if 'expert' in data['models'] else []):
        rates = [cells[cid][a]['success_rate'] for cid in disturbed if a in cells.get(cid, {})]
        if not rates:
            continue
        worst = min(disturbed, key=lambda cid: cells.get(cid, {}).get(a, {}).get(
            'success_rate', 2.0))
        summary.append((np.mean(rates), a, worst))
    if summary:
        summary.sort(key=lambda t: -t[0])

        def worst_text(a, w):
            rate = cells[w][a]['success_rate']
            return 'never below 100%' if rate >= 1.0 else f'worst: {labels[w]} {100 * rate:.0f}%'
        out.append('Mean success over the disturbed conditions: ' + ', '.join(
            f'{ARCH_LABELS[a]} {100 * m:.0f}% ({worst_text(a, w)})' for m, a, w in summary) + '.')
    costs = [(a, data['models'][a]) for a in names if 'step_us_median' in data['models'][a]]
    if costs:
        out.append('Cost per controller: ' + '; '.join(
            f'{ARCH_LABELS[a]} {m["n_params"]} parameters, {m["step_us_median"]:.0f} µs per step'
            for a, m in costs) + ' (runtime median, measured before the closed-loop runs).')
    # Where the expert itself fails, the task is hard for everyone.
    hard = [cid for cid in disturbed if 'expert' in cells.get(cid, {})
            and cells[cid]['expert']['success_rate'] < 0.8]
    if hard:
        out.append('The expert itself succeeds in under 80% of the episodes in: '
                   + ', '.join(labels[c] for c in hard)
                   + ' — the learned controllers are compared with a reference that also '
                     'degrades there.')
    if seeds and task in seeds.get('tasks', {}):
        out += seed_findings(task, data, seeds)
    else:
        out.append('Each architecture is one trained model (training seed 0): a difference '
                   'between architectures here may be that of two training runs. See the '
                   'seed section when it was run.')
    return out


def seed_findings(task, data, seeds):
    out = []
    sdata = seeds['tasks'][task]
    archs = list(sdata['archs'])
    spreads = []
    for arch in archs:
        for cid in sdata['conditions']:
            r = _seed_range(seeds, task, arch, cid)
            if r and r[2] > 1:
                spreads.append((r[1] - r[0], arch, cid))
    if spreads:
        widest = max(spreads)
        out.append(f'Training-seed noise: across {len(archs)} architectures retrained with '
                   f'{len(seeds["extra_seeds"])} more seeds, the success of one architecture '
                   f'in one condition varies by up to {100 * widest[0]:.0f} points between seeds '
                   f'({ARCH_LABELS[widest[1]]}, {widest[2]}); median spread '
                   f'{100 * np.median([s[0] for s in spreads]):.0f} points.')
    if len(archs) >= 2:
        a, b = archs[0], archs[1]
        separated, overlapping = [], []
        for cid in sdata['conditions']:
            ra, rb = _seed_range(seeds, task, a, cid), _seed_range(seeds, task, b, cid)
            if not ra or not rb or ra[2] < 2 or rb[2] < 2:
                continue
            if ra[0] > rb[1]:
                separated.append(f'{ARCH_LABELS[a]} > {ARCH_LABELS[b]} in {cid}')
            elif rb[0] > ra[1]:
                separated.append(f'{ARCH_LABELS[b]} > {ARCH_LABELS[a]} in {cid}')
            else:
                overlapping.append(cid)
        if separated:
            out.append('Separated beyond training-seed noise (every seed of one above every '
                       'seed of the other): ' + '; '.join(separated) + '.')
        if overlapping:
            out.append(f'{ARCH_LABELS[a]} and {ARCH_LABELS[b]} overlap across seeds in: '
                       + ', '.join(overlapping) + ' — no architecture effect can be claimed '
                       'there.')
    return out


def cost_note(study):
    """How long the closed-loop runs took, and the CPU they needed (load-independent)."""
    cells = [c for data in study['tasks'].values() for by in data.get('cells', {}).values()
             for c in by.values()]
    cpu = sum(c.get('cpu_seconds', 0.0) for c in cells)
    text = (f'The {len(cells)} cells took {study["wall_seconds"] / 60:.0f} min on '
            f'{study["workers"]} process(es)')
    if cpu:
        text += (f' and {cpu / 60:.0f} min of CPU in all: about {cpu / 60 / 2:.0f} min on two '
                 f'otherwise idle cores')
    return [text + '.', '']


def overview(study, seeds):
    """The answer in a few lines: counts of significant paired differences per task."""
    lines = ['## At a glance', '']
    for task, data in study['tasks'].items():
        comps = comparisons(data)
        if not comps:
            lines.append(f'- {task}: no GRU model to compare with.')
            continue
        better = [c for c in comps if c['p_holm'] < ALPHA and c['diff'] > 0]
        worse = [c for c in comps if c['p_holm'] < ALPHA and c['diff'] < 0]
        by_arch = {}
        for c in better:
            by_arch.setdefault(c['arch'], [0, 0])[0] += 1
        for c in worse:
            by_arch.setdefault(c['arch'], [0, 0])[1] += 1
        detail = '; '.join(f'{ARCH_LABELS[a]} better in {b}, worse in {w}'
                           for a, (b, w) in sorted(by_arch.items()))
        lines.append(f'- **{task}**: of {len(comps)} paired liquid-vs-GRU comparisons '
                     f'({len({c["arch"] for c in comps})} liquid networks × '
                     f'{len(data["conditions"])} conditions, each on the same '
                     f'{study["episodes"]} episodes), {len(better)} favour the liquid network and '
                     f'{len(worse)} the GRU beyond episode noise; the other '
                     f'{len(comps) - len(better) - len(worse)} are ties within noise.'
                     + (f' ({detail}.)' if detail else ''))
    if seeds:
        lines.append('- Training-seed noise was measured for '
                     + ', '.join(ARCH_LABELS[a] for a in seeds['archs']) + ' on '
                     + ', '.join(seeds['tasks']) + ' (see the seed section): read any single '
                     'difference together with it.')
    else:
        lines.append('- Every model is a single training run; differences may be training '
                     'noise (the seeds benchmark was not run).')
    lines.append('')
    return lines


def task_section(task, data, img, seeds=None):
    names = [n for n in (*ARCHS, 'expert') if n in data['models']]
    models = data['models']
    model_rows = []
    for n in names:
        m = models[n]
        nominal = data['cells'].get('nominal', {}).get(n)
        model_rows.append((ARCH_LABELS[n], m.get('n_params', '—'), m.get('n_state', '—'),
                           f(m.get('step_us_median')), f(m.get('step_us_p99')),
                           m.get('seed', '—'), m['source'],
                           pct(nominal) if nominal else '—'))
    lines = [f'## {task}', '']
    lines += ['### Findings', '']
    lines += [f'- {x}' for x in findings(task, data, seeds)]
    lines += ['', '### Controllers', '',
              table(('controller', 'params', 'state', 'step µs (median)', 'step µs (p99)',
                     'training seed', 'model', 'nominal success %'), model_rows), '',
              'Step time: `ControllerSession.step` of that file, measured before the '
              'closed-loop runs started.', '']
    cond_rows, perf_rows = [], []
    for cond in data['conditions']:
        cells = data['cells'].get(cond['id'], {})
        cond_rows.append([cond['label']] + [pct(cells[n]) if n in cells else '—'
                                            for n in names])
        perf = [cond['label']]
        for n in names:
            if n not in cells:
                perf.append('—')
                continue
            r, rh = mean_ci(cells[n]['ret'])
            e, eh = mean_ci(cells[n]['tracking_error'])
            perf.append(f'{r:.2f} ± {rh:.2f} / {e:.3g} ± {eh:.2g}')
        perf_rows.append(perf)
    header = ['condition'] + [ARCH_LABELS[n] for n in names]
    lines += ['### Success % (95% Wilson interval)', '', table(header, cond_rows), '',
              f'![{task} study]({img})', '',
              '### Return / tracking error (mean ± 95% interval half-width)', '',
              metrics_note(task), '', table(header, perf_rows), '']
    lines += figures_section(task, data, names, header)
    comps = comparisons(data)
    if comps:
        present = [a for a in LIQUID if a in data['models']]
        by = {(c['condition'], c['arch']): c for c in comps}
        rows = []
        for cond in data['conditions']:
            row = [cond['label']]
            for a in present:
                c = by.get((cond['id'], a))
                text = f'{100 * c["diff"]:+.0f} (p={c["p"]:.2g})' if c else '—'
                row.append(f'**{text}**' if c and c['p_holm'] < ALPHA else text)
            rows.append(row)
        lines += ['### Paired differences to the GRU', '',
                  'Success-rate difference (points) of each liquid network minus the GRU on the '
                  'same episodes, with the raw McNemar exact p-value; bold = significant after '
                  f'Holm\'s correction over the {len(comps)} comparisons of this task.', '',
                  table(['condition'] + [f'{ARCH_LABELS[a]} − GRU' for a in present], rows),
                  '']
    return lines


def figures_section(task, data, names, header):
    """The task's own figures (Task.figures) per condition and controller, if it has any."""
    from liquid_control.tasks import get_task
    task = get_task(task)
    if not task.figures:
        return []
    rows = []
    for cond in data['conditions']:
        cells = data['cells'].get(cond['id'], {})
        row = [cond['label']]
        for n in names:
            figures = cells.get(n, {}).get('figures')
            row.append(' / '.join(text for _, text in task.figure_texts(figures))
                       if figures is not None else '—')
        rows.append(row)
    labels = ' / '.join(label for _, label, _ in task.figures)
    return ['### Task figures', '',
            f'Each cell: {labels} (means over the episodes; a time over the episodes that '
            'reached it).', '', table(header, rows), '']


def success_rules(study):
    """The success rule of every task in the study, in its Task's own words."""
    from liquid_control.tasks import get_task
    return '; '.join(f'{name} — {get_task(name).success_rule or "as the task defines it"}'
                     for name in study['tasks'])


def metrics_note(task):
    """What the task's return and tracking error measure (its Task's own words)."""
    from liquid_control.tasks import get_task
    task = get_task(task)
    return (f'Return: {task.return_rule or "as the task defines it"}. '
            f'Tracking error: {task.tracking_error or "as the task defines it"}.')


def seeds_section(seeds, img):
    lines = ['## Training-seed noise', '', measured_note(seeds), '',
             f'The shipped training recipe run again with seeds '
             f'{", ".join(map(str, seeds["extra_seeds"]))} (seed 0 is the shipped model), '
             f'for {", ".join(ARCH_LABELS[a] for a in seeds["archs"])}; each model evaluated on '
             f'the study\'s {seeds["episodes"]} episodes. Success % per seed:', '']
    for task, data in seeds['tasks'].items():
        header = ['arch', 'seed'] + data['conditions'] + ['training wall / CPU min']
        rows = []
        for arch, per_seed in data['archs'].items():
            for seed, cells in sorted(per_seed.items()):
                wall = data['train_seconds'].get(arch, {}).get(seed)
                cpu = data.get('train_cpu_seconds', {}).get(arch, {}).get(seed)
                cost = (f'{wall / 60:.1f} / {f(cpu / 60 if cpu else None)}' if wall
                        else 'shipped model')
                rows.append([ARCH_LABELS[arch], seed] + [
                    f'{100 * cells[c]["success_rate"]:.0f}' if c in cells else '—'
                    for c in data['conditions']] + [cost])
        lines += [f'### {task}', '', table(header, rows), '']
    lines += [f'![training seeds]({img})', '']
    return lines


def study_md(study, seeds, out_dir):
    out_dir = Path(out_dir)
    img_dir = out_dir / 'img'
    lines = [
        '# Liquid networks vs GRU: closed-loop study',
        '',
        'Is a liquid network (CfC, LTC, NCP-wired CfC) a better controller than a GRU? Every '
        'shipped controller runs in closed loop in the ROS-free MuJoCo simulator through the '
        'ONNX runtime (`ControllerSession.step`, exactly as the node steps it), beside the '
        'expert it was trained to imitate, under disturbances it was or was not trained for. '
        'Regenerate with `make bench` or `liquid-control bench --only study seeds`. Speed '
        'figures are in [benchmarks.md](benchmarks.md).',
        '',
        measured_note(study),
        '',
        *cost_note(study),
        '## Method',
        '',
        f'- {study["episodes"]} episodes per cell; episode i of every cell starts from the same '
        f'state (seed {study["seed"]}, held out from training) and, for equal conditions, sees '
        f'the same noise, so controllers are compared on identical episodes.',
        '- Conditions: nominal; observation noise 5 and 10% of each signal\'s typical spread; '
        'dt jitter ±25 and ±50% (each period nominal × (1 + U(−j, j)); the controller is told '
        'the actual dt); control rate changed at deploy time (trained at 50 Hz, run at 25 and '
        '100 Hz); actuator delay of 1 and 2 ticks; physics changed (cart-pole: pole mass and '
        'length ×0.7 and ×1.3; diff-drive: wheel radius ×0.9 and ×1.1 while the drive '
        'converts commands with the nominal radius). The training recipe used ±50% dt jitter '
        'and 2% observation noise, so jitter up to ±50% and the 100 Hz rate (−50% period) are '
        'inside the training distribution; 25 Hz, the delays and the physics changes are not.',
        '- The expert is the analytic controller the networks imitate (swing-up + LQR for the '
        'cart-pole, a path-feature follower for the diff-drive), always designed for the '
        'nominal physics and rate.',
        f'- Success: {success_rules(study)}.',
        '- Statistics: success with 95% Wilson intervals; differences between controllers '
        'tested on the paired episodes (McNemar exact test), corrected for the number of '
        'comparisons (Holm). Findings below are generated from the numbers by these rules.',
        '',
    ]
    lines += overview(study, seeds)
    for task, data in study['tasks'].items():
        img = f'img/study_{task}.png'
        plots.study_task(task, data, group_levels, img_dir / f'study_{task}.png')
        lines += task_section(task, data, img, seeds)
    if seeds:
        plots.seeds(seeds, img_dir / 'study_seeds.png')
        lines += seeds_section(seeds, 'img/study_seeds.png')
    lines += [
        '## Caveats',
        '',
        '- One training recipe (behaviour cloning + DAgger from an expert) and one width per '
        'architecture; other recipes (reinforcement learning, longer training) may rank them '
        'differently.',
        '- Two small tasks. Both give every architecture the elapsed time dt as an input (the '
        'GRU as a feature), so the GRU is not handicapped under irregular sampling; what is '
        'compared is how the cells use it.',
        f'- With {study["episodes"]} episodes a success rate is known to about ±10 points '
        '(95%) near 50% and to a few points near 0 or 100%.',
        '',
    ]
    path = out_dir / 'study.md'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('\n'.join(lines).rstrip() + '\n')
    return path
