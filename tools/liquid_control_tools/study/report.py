"""docs/study.md: the study's tables, figures, and the findings and verdicts its numbers
support.

Findings are computed from the results by fixed rules, so a re-run states what its own
numbers show:
- across training seeds, one architecture is "better" than another in a condition only when
  Welch's t-test on the per-seed success rates says so after Holm's correction over every
  comparison of that kind on the task (family-wise 5%); otherwise they are "level";
- between single models (seed 0), a difference counts only when McNemar's exact test on the
  paired episodes says so after Holm's correction over the task's comparisons.
"""
from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import numpy as np

from liquid_control_tools.bench import plots
from liquid_control_tools.bench.common import ARCH_LABELS
from liquid_control_tools.bench.report import f, measured_note, table

from .conditions import group_levels
from .stats import holm, mcnemar_p, mean_ci, seed_interval, welch_p

ALPHA = 0.05
LIQUID = ('cfc', 'ltc', 'ncp')
STACK = 'mlp_stack'
ORDER = ('cfc', 'ltc', 'ncp', 'gru', 'lstm', 'mlp_stack', 'mlp')
# Step-time ratios to the GRU within this margin of 1 read as "about the same": each step time
# is a median from a single run on a shared machine, not a controlled timing.
COST_MARGIN = 0.10
# A mean success across seeds below this is a failure at the task: two networks level there
# "both fail" rather than one "doing as well" as the other.
FAIL_BELOW = 0.20
# Level means closer than this read "does as well"; farther apart, level only for the spread.
CLOSE = 0.10
# Each claim of the usual liquid-vs-GRU comparison, and the conditions that settle it.
CLAIMS = (
    ('Robust to noisy observations', ('noise_10',)),
    ('Continuous time handles irregularly sampled data', ('jitter_50', 'event', 'dropout_10')),
    ('Generalises to a control rate it was not trained at', ('rate_25',)),
    ('Adapts to changing environments (dynamics changed, weights fixed)', ('physics',)),
    ('Copes with actuator delay', ('delay_2',)),
)


def label(name):
    return ARCH_LABELS.get(name, name)


def pct(cell):
    lo, hi = cell['success_ci95']
    return f'{100 * cell["success_rate"]:.0f} ({100 * lo:.0f}–{100 * hi:.0f})'


def archs_of(data):
    return [a for a in ORDER if a in data['models']]


# -- across seeds ---------------------------------------------------------------------------------
def seed_rates(data, arch, cid):
    """Success rates of every seed of `arch` in condition `cid` (seed order)."""
    per_seed = data['seeds'].get(arch, {})
    return [cells[cid]['success_rate'] for _, cells in sorted(per_seed.items(),
                                                                key=lambda kv: int(kv[0]))
            if cid in cells]


def seed_text(rates):
    mean, lo, hi = seed_interval(rates)
    if not rates:
        return '—'
    if len(rates) < 2:
        return f'{100 * mean:.0f} (1 seed)'
    return f'{100 * mean:.0f} ({100 * lo:.0f}–{100 * hi:.0f}, n={len(rates)})'


def seed_conditions_of(data):
    """The conditions that at least two seeds of some arch met (seed 0 meets them all)."""
    def seeds_with(per_seed, cid):
        return sum(cid in cells for cells in per_seed.values())
    return [c['id'] for c in data['conditions']
            if any(seeds_with(per_seed, c['id']) > 1 for per_seed in data['seeds'].values())]


def seed_comparisons(data, pairs):
    """Welch tests on per-seed success for each (a, b) in `pairs` and each condition every
    seed met; Holm over all of them. [{a, b, condition, diff, p, p_holm}]."""
    out = []
    for cid in seed_conditions_of(data):
        for a, b in pairs:
            ra, rb = seed_rates(data, a, cid), seed_rates(data, b, cid)
            p = welch_p(ra, rb)
            if np.isnan(p):
                continue
            out.append({'a': a, 'b': b, 'condition': cid, 'p': p,
                        'diff': float(np.mean(ra) - np.mean(rb))})
    for c, adj in zip(out, holm([c['p'] for c in out]) if out else []):
        c['p_holm'] = float(adj)
    return out


def main_pairs(data):
    """The comparisons the study is about: each liquid network against the GRU and against
    the memoryless MLP, and the GRU against the MLP."""
    names = archs_of(data)
    pairs = [(a, b) for a in LIQUID if a in names for b in ('gru', 'mlp') if b in names]
    if 'gru' in names and 'mlp' in names:
        pairs.append(('gru', 'mlp'))
    return pairs


def stack_pairs(data):
    """Each liquid network against memory without recurrence (the MLP over the last frames):
    a question of its own, so its own family of tests."""
    names = archs_of(data)
    return [(a, STACK) for a in LIQUID if a in names and STACK in names]


def verdict(comps, arch_set, rival, cids):
    """How the liquid networks fare against `rival` across seeds in conditions `cids`:
    (better, worse, level) lists of (arch, condition, diff)."""
    better, worse, level = [], [], []
    for c in comps:
        if c['a'] in arch_set and c['b'] == rival and c['condition'] in cids:
            item = (c['a'], c['condition'], c['diff'])
            (better if c['p_holm'] < ALPHA and c['diff'] > 0 else
             worse if c['p_holm'] < ALPHA and c['diff'] < 0 else level).append(item)
    return better, worse, level


def physics_ids(data):
    return [c['id'] for c in data['conditions'] if c.get('physics')]


# -- single models: paired episodes ------------------------------------------------------------
def comparisons(data):
    """Every liquid-vs-GRU paired comparison of one task's seed-0 models, with raw and
    Holm p-values (empty without a GRU)."""
    out = []
    names = archs_of(data)
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


# -- the document ---------------------------------------------------------------------------------
def cost_note(study):
    """Wall and CPU time of the whole study, so a user can size a cluster."""
    train_cpu = study.get('training_cpu_seconds', 0.0)
    eval_cpu = study.get('evaluation_cpu_seconds', 0.0)
    cpu_h = (train_cpu + eval_cpu) / 3600
    return [f'The study trained {study.get("models_trained", 0)} models and ran '
            f'{study.get("cells_run", 0)} cells (each {study["episodes"]} episodes for seed 0, '
            f'{study.get("seed_episodes")} for the other seeds) on {study.get("backend")} with '
            f'{study["workers"]} worker(s) in {study["wall_seconds"] / 3600:.2f} h of wall time '
            f'(training {study.get("training_wall_seconds", 0) / 3600:.2f} h, evaluation '
            f'{study.get("evaluation_wall_seconds", 0) / 3600:.2f} h). The jobs used '
            f'{cpu_h:.2f} CPU-hours (training {train_cpu / 3600:.2f}, evaluation '
            f'{eval_cpu / 3600:.2f}): on N one-core workers it takes about {cpu_h:.1f} / N '
            f'hours plus the longest single training job.'] + _runs_note(study) + ['']


def _runs_note(study):
    """The runs a merged study was made in (one line each), when there were several."""
    runs = study.get('runs', [])
    if len(runs) < 2:
        return []
    lines = ['', f'It ran task by task, in {len(runs)} runs:', '']
    for run in runs:
        cpu_h = (run['training_cpu_seconds'] + run['evaluation_cpu_seconds']) / 3600
        lines.append(f'- {", ".join(run["tasks"])}: {run["wall_seconds"] / 3600:.2f} h of wall '
                     f'time, {cpu_h:.2f} CPU-hours ({run["models_trained"]} models trained, '
                     f'{run["cells_run"]} cells; source {run.get("commit") or "unknown"})')
    return lines


# What the across-seed tests say of the liquid networks on one task, in one claim's conditions.
TaskVerdict = namedtuple('TaskVerdict', 'task better worse over_mlp below_stack')


def claims_table(study):
    """One row per claim: the measurement that settles it, the figures, the verdict."""
    # Each task's comparisons once: the claims only pick their conditions from them.
    tested = {task: (seed_comparisons(data, main_pairs(data)),
                     seed_comparisons(data, stack_pairs(data)), seed_conditions_of(data))
              for task, data in study['tasks'].items()}
    rows = []
    for claim, cids in CLAIMS:
        figures, verdicts = [], []
        for task, data in study['tasks'].items():
            comps, stack_comps, seed_cids = tested[task]
            ids = physics_ids(data) if cids == ('physics',) else list(cids)
            ids = [c for c in ids if c in seed_cids]
            if not ids or not comps or 'gru' not in data['models']:
                continue
            better, worse, _ = verdict(comps, LIQUID, 'gru', ids)
            figures.append(f'{task}: ' + '; '.join(
                f'{cid} ' + ', '.join(f'{label(a)} {seed_text(seed_rates(data, a, cid))}'
                                      for a in ('cfc', 'gru', 'mlp', STACK)
                                      if a in data['models'])
                for cid in ids))
            verdicts.append(TaskVerdict(task, better, worse,
                                        over_mlp=verdict(comps, LIQUID, 'mlp', ids)[0],
                                        below_stack=verdict(stack_comps, LIQUID, STACK, ids)[1]))
        rows.append((claim, _settled_by(cids), ' <br> '.join(figures) or '—',
                     _claim_verdict(verdicts)))
    rows.append(cost_claim(study))
    rows.append(params_claim(study))
    rows.append(('Online learning / adaptive dynamics', 'not measurable here: every network '
                 'runs with fixed weights after training (no learning at run time)', '—',
                 'not measurable here. What the numbers do show about "adaptive dynamics" '
                 'is in the row on changed dynamics: how success holds up with the physics '
                 'changed and the weights fixed, compared with the GRU and the MLP.'))
    return table(('claim', 'settled by', 'figures (success %, mean over seeds, 95% interval)',
                  'verdict'), rows)


def _settled_by(cids):
    if cids == ('physics',):
        return 'success with each physics change of the task, weights fixed, across seeds'
    return 'success in ' + ', '.join(cids) + ' across training seeds (Welch, Holm)'


def _claim_verdict(verdicts):
    if not verdicts:
        return 'not measured: no task with several seeds of a liquid network and the GRU'
    def gather(field):
        return [(v.task, a, c) for v in verdicts for a, c, _ in getattr(v, field)]
    better, worse = gather('better'), gather('worse')
    over_mlp, below_stack = gather('over_mlp'), gather('below_stack')
    if better and not worse:
        text = 'supported: ' + '; '.join(f'{label(a)} > GRU on {t} ({c})' for t, a, c in better)
    elif worse and not better:
        text = 'not supported: the GRU is better: ' + '; '.join(
            f'GRU > {label(a)} on {t} ({c})' for t, a, c in worse)
    elif better and worse:
        text = 'mixed: ' + '; '.join(f'{label(a)} > GRU on {t} ({c})' for t, a, c in better) \
            + '; but ' + '; '.join(f'GRU > {label(a)} on {t} ({c})' for t, a, c in worse)
    else:
        text = 'not supported: no liquid network differs from the GRU beyond training-seed ' \
               'noise on any task'
    if over_mlp:
        text += '. Beyond the memoryless MLP: ' + '; '.join(
            f'{label(a)} on {t} ({c})' for t, a, c in over_mlp)
    if below_stack:
        text += f'. Memory without recurrence does better: {label(STACK)} > ' + '; '.join(
            f'{label(a)} on {t} ({c})' for t, a, c in below_stack)
    return text


def cost_claim(study):
    parts, ratios = [], {}
    for task, data in study['tasks'].items():
        steps = {a: data['models'][a].get('step_us_median') for a in archs_of(data)}
        if not steps.get('gru') or not any(steps.get(a) for a in LIQUID):
            continue
        parts.append(f'{task}: ' + ', '.join(f'{label(a)} {f(s)} µs' for a, s in
                                             steps.items() if s))
        for a in LIQUID:
            if steps.get(a):
                ratios.setdefault(a, {})[task] = steps[a] / steps['gru']
    if not parts:
        return ('Computational cost per step', 'runtime step time', '—', 'not measured')
    verdicts = '; '.join(_cost_verdict(a, ratios[a]) for a in LIQUID if a in ratios)
    return ('Computational cost per step', 'median `ControllerSession.step` time of each '
            'seed-0 model, measured before the closed-loop runs (benchmarks.md: the same '
            'against torch)', ' <br> '.join(parts),
            f'"cheaper per step than a GRU": {verdicts}. Step-time ratios within '
            f'±{100 * COST_MARGIN:.0f}% of 1 read as about the same (single-run timings on a '
            'shared machine).')


def _cost_kind(ratio):
    if ratio < 1 - COST_MARGIN:
        return 'cheaper'
    if ratio > 1 + COST_MARGIN:
        return 'costs more'
    return 'about the same'


def _span(values, fmt):
    lo, hi = fmt.format(min(values)), fmt.format(max(values))
    return lo if lo == hi else f'{lo}–{hi}'


def _cost_verdict(arch, ratio_by_task):
    """One liquid arch's verdict on "cheaper per step than a GRU" from its step-time ratio
    to the GRU on each task."""
    ratios = list(ratio_by_task.values())
    times = _span(ratios, '{:.2f}') + 'x'
    kinds = {task: _cost_kind(r) for task, r in ratio_by_task.items()}
    if len(set(kinds.values())) > 1:
        return f'{label(arch)} mixed, {times} the GRU (' + ', '.join(
            f'{kinds[task]} on {task}: {r:.2f}x' for task, r in ratio_by_task.items()) + ')'
    kind = next(iter(kinds.values()))
    if kind == 'cheaper':
        saving = _span([100 * (1 - r) for r in ratios], '{:.0f}')
        return f'{label(arch)} supported, {times} the GRU ({saving}% cheaper)'
    if kind == 'costs more':
        return f'{label(arch)} not supported, costs {times} the GRU'
    return f'{label(arch)} not supported, about the same as the GRU ({times})'


def params_claim(study):
    parts, train = [], []
    for task, data in study['tasks'].items():
        parts.append(f'{task}: ' + ', '.join(
            f'{label(a)} {data["models"][a].get("n_params", "—")}' for a in archs_of(data)))
        for a, per_seed in data.get('training', {}).items():
            secs = [s['train_seconds'] for s in per_seed.values() if 'train_seconds' in s]
            if secs:
                train.append((task, a, float(np.mean(secs))))
    text = ' <br> '.join(parts)
    if train:
        text += ' <br> training s (mean over seeds): ' + ', '.join(
            f'{t} {label(a)} {s:.0f}' for t, a, s in train)
    return ('Fewer parameters and less training', 'weights of each model; training seconds '
            'of the seeds trained here (one thread)', text,
            'parameters: only the NCP-wired CfC is an order of magnitude smaller (the widths '
            'of the others are set to similar budgets); training time: see the figures.')


def overview(study):
    lines = ['## At a glance', '']
    for task, data in study['tasks'].items():
        comps = seed_comparisons(data, main_pairs(data))
        partial = ' (partially observed)' if data.get('partially_observed') else ''
        if not comps:
            lines.append(f'- **{task}**{partial}: one seed per architecture, no across-seed '
                         'comparison.')
            continue
        sig = [c for c in comps if c['p_holm'] < ALPHA]
        text = (f'- **{task}**{partial}: {len(comps)} across-seed comparisons '
                f'(liquid vs GRU and MLP, GRU vs MLP, in {len(seed_conditions_of(data))} '
                f'conditions); {len(sig)} beyond training-seed noise')
        if sig:
            text += ': ' + '; '.join(
                f'{label(c["a"]) if c["diff"] > 0 else label(c["b"])} > '
                f'{label(c["b"]) if c["diff"] > 0 else label(c["a"])} in {c["condition"]} '
                f'({100 * abs(c["diff"]):.0f} pts)' for c in sig)
        lines.append(text + '.')
        mlp_level = [c['a'] for c in comps if c['b'] == 'mlp' and c['a'] in LIQUID
                     and c['condition'] == 'nominal' and c['p_holm'] >= ALPHA]
        if mlp_level:
            lines.append(f'  - {_mlp_level_sentence(data, mlp_level)}')
    lines.append('')
    return lines


def _mlp_level_sentence(data, level_archs):
    """The MLP against the liquid networks it is level with at nominal conditions, with the
    mean success of each across seeds: level and both failing is not "doing as well"."""
    mean = {a: seed_interval(seed_rates(data, a, 'nominal'))[0] for a in ('mlp', *level_archs)}
    failing = [a for a in level_archs if max(mean['mlp'], mean[a]) < FAIL_BELOW]
    working = [a for a in level_archs if a not in failing]
    mlp = f'The memoryless MLP ({100 * mean["mlp"]:.0f}%)'
    where = 'at nominal conditions on this task'
    fail = 'both fail' if len(failing) == 1 else 'all fail'
    if not working:
        return f'{mlp} is level with {_and(_rated(failing, mean))} {where}: {fail}.'
    if all(abs(mean[a] - mean['mlp']) < CLOSE for a in working):
        text = f'{mlp} does as well as {_and(_rated(working, mean))} {where}'
    else:
        text = (f'{mlp} is level across seeds with {_and(_rated(working, mean))} {where}: '
                'the seeds spread more than the gap')
    if failing:
        text += f'; {_and(["it", *_rated(failing, mean)])} {fail}'
    return text + '.'


def _rated(archs, mean):
    return [f'{label(a)} ({100 * mean[a]:.0f}%)' for a in archs]


def _and(names):
    return names[0] if len(names) == 1 else ', '.join(names[:-1]) + ' and ' + names[-1]


def seeds_section(task, data):
    cids = seed_conditions_of(data)
    if not cids:
        return []
    labels = {c['id']: c['label'] for c in data['conditions']}
    rows = []
    for arch in archs_of(data):
        rows.append([label(arch)] + [seed_text(seed_rates(data, arch, cid)) for cid in cids])
    lines = ['### Across training seeds', '',
             'Success % over the seeds of each architecture (mean, 95% Student-t interval of '
             'the mean, number of seeds), each seed on the same first '
             f'{_seed_episodes(data)} episodes.', '',
             table(['arch'] + [labels[c] for c in cids], rows), '']
    comps = seed_comparisons(data, main_pairs(data))
    if comps:
        rows = []
        for c in comps:
            text = f'{100 * c["diff"]:+.0f} (p={c["p"]:.2g}, Holm {c["p_holm"]:.2g})'
            rows.append((f'{label(c["a"])} − {label(c["b"])}', labels[c['condition']],
                         f'**{text}**' if c['p_holm'] < ALPHA else text))
        lines += ['Differences of mean success across seeds (points; Welch t-test, bold = '
                  f'beyond training-seed noise after Holm over the {len(comps)} comparisons):',
                  '', table(('comparison', 'condition', 'difference'), rows), '']
    img = f'img/study_seeds_{task}.png'
    lines += [f'![{task} across seeds]({img})', '']
    return lines


def _seed_episodes(data):
    for per_seed in data['seeds'].values():
        for cells in per_seed.values():
            for cell in cells.values():
                return cell['episodes']
    return 0


def task_section(task, data, img):
    names = archs_of(data) + ['expert']
    models = data['models']
    lines = [f'## {task}', '']
    from liquid_control.tasks import get_task
    spec = get_task(task)
    lines += [f'{spec.description[0].upper()}{spec.description[1:]}. Observes: '
              + ', '.join(f'`{n}`' for n in spec.obs_names) + '.', '']
    lines += seeds_section(task, data)
    model_rows = []
    for n in names:
        m = models.get(n, {})
        training = data.get('training', {}).get(n, {}).get('0', {})
        nominal = data['cells'].get('nominal', {}).get(n)
        model_rows.append((label(n), m.get('n_params', '—'), m.get('n_state', '—'),
                           f(m.get('step_us_median')), f(m.get('step_us_p99')),
                           training.get('source', '—' if n != 'expert' else 'expert'),
                           pct(nominal) if nominal else '—'))
    lines += ['### Seed-0 models', '',
              table(('controller', 'params', 'state', 'step µs (median)', 'step µs (p99)',
                     'model', 'nominal success %'), model_rows), '']
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
    header = ['condition'] + [label(n) for n in names]
    lines += ['Success % of the seed-0 models (95% Wilson interval), every condition:', '',
              table(header, cond_rows), '', f'![{task} study]({img})', '',
              'Return / tracking error (mean ± 95% interval half-width): '
              + metrics_note(spec), '', table(header, perf_rows), '']
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
        lines += ['Paired differences of the seed-0 models to the GRU (points, same episodes, '
                  f'McNemar exact p; bold = significant after Holm over {len(comps)}): single '
                  'training runs, read beside the across-seed figures.', '',
                  table(['condition'] + [f'{label(a)} − GRU' for a in present], rows), '']
    return lines


def metrics_note(spec):
    return (f'return: {spec.return_rule or "as the task defines it"}; '
            f'tracking error: {spec.tracking_error or "as the task defines it"}.')


def study_md(study, out_dir):
    out_dir = Path(out_dir)
    img_dir = out_dir / 'img'
    from liquid_control.tasks import get_task
    for task, data in study['tasks'].items():
        data['partially_observed'] = get_task(task).partially_observed
    archs = [a for a in ORDER if a in study.get('archs', ORDER)]
    lines = [
        '# Liquid networks in closed loop: where memory and elapsed time matter',
        '',
        'Do liquid networks (CfC, LTC, NCP-wired CfC) control better than a GRU, and than '
        'networks without memory (an MLP), without recurrence (an MLP over the last 8 '
        'observations and dts) or with another gated memory (an LSTM)? Every controller is '
        'trained by the same recipe (behaviour cloning + DAgger from the task\'s expert, the '
        'same budget), exported to ONNX and run through the runtime exactly as the node steps '
        'it, in the ROS-free MuJoCo simulator, beside the expert, under disturbances it was '
        'or was not trained for. Regenerate with `liquid-control bench --only study` '
        '(`--backend ray [--ray-address ADDR]` to spread it over a Ray cluster). Speed '
        'figures are in [benchmarks.md](benchmarks.md).',
        '',
        measured_note(study),
        '',
        *cost_note(study),
        '## The claims, settled',
        '',
        claims_table(study),
        '',
        *overview(study),
        '## Method',
        '',
        '- Architectures: ' + ', '.join(label(a) for a in archs) + '. Every one gets the '
        'elapsed time dt as an input (the GRU, LSTM and MLPs as a feature), so none is '
        'handicapped under irregular sampling: what is compared is how each uses it.',
        '- Tasks: ' + '; '.join(
            f'{t}{" (partially observed)" if d["partially_observed"] else ""}'
            for t, d in study['tasks'].items()) + '.',
        f'- Seeds: seed 0 is the shipped model where there is one; on a partially observed '
        f'task CfC, GRU and MLP have 5 training seeds and the others 3; 3 each elsewhere. Seed '
        f'0 meets every condition on {study["episodes"]} episodes; every seed meets the '
        f'conditions of the claims on the first {study.get("seed_episodes")} of them.',
        f'- Episodes: episode i of every cell starts from the same state (seed {study["seed"]}, '
        'held out from training) and, for equal conditions, sees the same noise.',
        '- Conditions: nominal; observation noise 5 and 10% of each signal\'s typical spread; '
        'dt jitter ±25 and ±50%; event-driven sampling (observations at Poisson times of the '
        'nominal mean rate); sensor dropouts (after 5 or 10% of the observations a burst of '
        'lost messages, geometric with mean 5 sampling periods, the last command held; the '
        'controller then steps with the whole gap as dt); control rate changed at deploy time '
        '(trained at 50 Hz, run at 25 and 100 Hz); actuator delay of 1 and 2 ticks; each '
        'task\'s physics changes. Training used ±50% dt jitter and 2% observation noise.',
        '- Statistics: across seeds, mean success with a 95% Student-t interval and Welch '
        't-tests between architectures, Holm-corrected per task (the liquid networks against '
        'the MLP-stack are a family of their own); between seed-0 models, '
        'McNemar exact tests on the paired episodes, Holm-corrected per task. The verdicts and '
        'findings are generated from the numbers by these rules.',
        '',
    ]
    for task, data in study['tasks'].items():
        img = f'img/study_{task}.png'
        plots.study_task(task, data, group_levels, img_dir / f'study_{task}.png')
        if seed_conditions_of(data):
            plots.study_seeds(task, data, seed_conditions_of(data),
                              img_dir / f'study_seeds_{task}.png')
        lines += task_section(task, data, img)
    lines += [
        '## Caveats',
        '',
        '- One training recipe (imitation of an expert with DAgger) and one width per '
        'architecture; reinforcement learning or longer training may rank them differently.',
        '- A few training seeds: the across-seed intervals are wide; "level" means no '
        'difference was found at this resolution, not that none exists.',
        f'- With {study["episodes"]} episodes a single model\'s success rate is known to about '
        '±10 points (95%) near 50%.',
        '',
    ]
    path = out_dir / 'study.md'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('\n'.join(lines).rstrip() + '\n')
    return path
