"""docs/benchmarks.md from the performance results: targets with PASS/MISS, tables, figures.

Every figure printed here comes from the results files of one `liquid-control bench` run
(or, for benchmarks not re-run with --only, from the last run that produced them: each
section says when it was measured).
"""
from __future__ import annotations

import math
from pathlib import Path

from . import plots
from .common import ARCH_LABELS, ARCHS
from .loop_timing import MISSED_RESOLUTION_PERCENT, P99_RESOLUTION_US

TORCH_SPEEDUP_TARGET = 2.0
CHECKS_TARGET_US = 2.0       # what the runtime's checks may add to onnxruntime alone, same run
FLOOR_RATIO_TARGET = 1.5     # the node's loop p99 and missed ticks against the bare loop's
TICK_TO_STEP_TARGET = 2.5    # the node's tick median against its model step median
CPU_RATIO_TARGET = 1.5       # default busy-wait CPU against sleep-only, rates up to
CPU_RATIO_MAX_RATE_HZ = 200.0
ECHO_RATIO_TARGET = 1.0      # in-phase end-to-end median against a bare rclpy echo

# -- markdown helpers ------------------------------------------------------------------------------
def table(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def f(value, digits=1, unit=''):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return '—'
    return f'{value:.{digits}f}{unit}'


def verdict(ok):
    return 'PASS' if ok else '**MISS**'


def measured_note(result):
    m = result.get('machine', {})
    quick = ' — QUICK SMOKE RUN, not representative' if result.get('quick') else ''
    start = result.get('loadavg_1min_start')
    load = (f'1-min load average {f(start, 1)} at the start, {f(m.get("loadavg_1min"), 1)} at '
            f'the end' if start is not None else
            f'1-min load average at the end {f(m.get("loadavg_1min"), 1)}')
    took = result.get('run_seconds')
    return (f'_Measured {result.get("finished", "?")} at commit {m.get("commit", "?")}'
            + (f' in {took / 60:.1f} min' if took else '')
            + f'; {load} on {m.get("cores", "?")} cores{quick}._')


def model_source_note(sources):
    sources = set(sources)
    if sources == {'shipped'}:
        return 'the shipped model files in models/'
    if sources == {'untrained export'}:
        return ('untrained exports of the shipped architectures (models/ had none; a step '
                'costs the same whatever the weights)')
    return 'shipped model files where present, untrained exports of the same graph otherwise'


# -- targets ---------------------------------------------------------------------------------------
def targets(results):
    """[(target, measured, verdict or None, note)]: every target is a ratio (or difference)
    to a floor measured in the same run."""
    rows = []
    step = results.get('step_latency')
    for arch in ARCHS:
        r = step and step['archs'].get(arch)
        name = f'{ARCH_LABELS[arch]} runtime ≥ {TORCH_SPEEDUP_TARGET:g}x faster than torch eager'
        if r:
            rows.append((name, f'{r["speedup_vs_torch"]:.1f}x',
                         verdict(r['speedup_vs_torch'] >= TORCH_SPEEDUP_TARGET),
                         f'{r["speedup_round_min"]:.1f}–{r["speedup_round_max"]:.1f}x over '
                         f'rounds'))
        else:
            rows.append((name, 'not measured', None, ''))
    for arch in ARCHS:
        r = step and step['archs'].get(arch)
        name = (f'{ARCH_LABELS[arch]} runtime checks ≤ {CHECKS_TARGET_US:g} µs over '
                'onnxruntime alone')
        if r and 'checks_us' in r:
            rows.append((name, f'{r["checks_us"]:+.1f} µs',
                         verdict(r['checks_us'] <= CHECKS_TARGET_US),
                         f'same run: runtime {r["runtime"]["p50"]:.1f}, onnxruntime '
                         f'{r["ort"]["p50"]:.1f}, per-call floor {r["floor"]["p50"]:.1f} µs'))
        else:
            rows.append((name, 'not measured', None, ''))
    loop = results.get('loop_timing')
    for row in (loop or {}).get('rows', []):
        if 'p99_to_bare' not in row:
            continue
        rate, node, bare = f'{row["rate_hz"]:g} Hz', row['node'], row['bare']
        rows += [
            (f'{rate} loop p99 period error ≤ {FLOOR_RATIO_TARGET:g}x the bare loop\'s',
             f'{row["p99_to_bare"]:.2f}x', verdict(row['p99_to_bare'] <= FLOOR_RATIO_TARGET),
             f'node {node["p99_us"]:.1f} µs, bare loop {bare["p99_us"]:.1f} µs'),
            (f'{rate} missed ticks ≤ {FLOOR_RATIO_TARGET:g}x the bare loop\'s',
             f'{row["missed_to_bare"]:.2f}x',
             verdict(row['missed_to_bare'] <= FLOOR_RATIO_TARGET),
             f'node {node["missed_percent"]:.2f}%, bare loop {bare["missed_percent"]:.2f}%'),
        ]
        if 'tick_to_model_step' in row:
            rows.append((f'{rate} tick median ≤ {TICK_TO_STEP_TARGET:g}x the model step\'s',
                         f'{row["tick_to_model_step"]:.2f}x',
                         verdict(row['tick_to_model_step'] <= TICK_TO_STEP_TARGET),
                         f'tick {node["tick_p50_us"]:.0f} µs, model step '
                         f'{node["tick_model_step_p50_us"]:.0f} µs'))
    if not loop:
        rows.append(('loop targets', 'not measured', None, ''))
    cpu = results.get('cpu_memory')
    for r in (cpu or {}).get('rows', []):
        if 'cpu_to_sleep_only' in r and r['rate_hz'] <= CPU_RATIO_MAX_RATE_HZ:
            rows.append((f'{r["rate_hz"]:g} Hz CPU with the default busy-wait ≤ '
                         f'{CPU_RATIO_TARGET:g}x sleep-only',
                         f'{r["cpu_to_sleep_only"]:.2f}x',
                         verdict(r['cpu_to_sleep_only'] <= CPU_RATIO_TARGET),
                         f'{r["cpu_percent"]:.1f}% of a core'))
    if not cpu:
        rows.append(('CPU targets', 'not measured', None, ''))
    e2e = results.get('e2e_latency')
    if e2e and 'echo_us' in e2e:
        echo = e2e['echo_us']['p50']
        rows.append((f'e2e p50 in phase ≤ {ECHO_RATIO_TARGET:g}x a bare rclpy echo\'s',
                     f'{e2e["aligned_to_echo_p50"]:.2f}x',
                     verdict(e2e['aligned_to_echo_p50'] <= ECHO_RATIO_TARGET),
                     f'node {e2e["aligned_us"]["p50"]:.0f} µs, echo {echo:.0f} µs'))
        st = e2e.get('sensor_trigger_us')
        if st:
            free = e2e['unsynchronised_us']['p50']
            rows.append(('e2e p50 with trigger: sensor < the timer\'s free-running p50',
                         f'{st["p50"]:.0f} µs', verdict(st['p50'] < free),
                         f'timer free-running {free:.0f} µs; '
                         f'{e2e["sensor_trigger_to_echo_p50"]:.2f}x the echo'))
    else:
        rows.append(('end-to-end latency targets', 'not measured', None, ''))
    return rows


# -- sections --------------------------------------------------------------------------------------
def section_step(result, img):
    rows = []
    for arch in ARCHS:
        r = result['archs'].get(arch)
        if not r:
            continue
        numpy = r.get('numpy')
        deploy = r.get('torch_deploy')
        floor = r.get('floor')
        rows.append((ARCH_LABELS[arch], r['n_params'], r['n_state'],
                     f'{r["runtime"]["p50"]:.1f} / {r["runtime"]["p99"]:.1f}',
                     f'{r["ort"]["p50"]:.1f} / {r["ort"]["p99"]:.1f}',
                     f'{floor["p50"]:.1f} / {floor["p99"]:.1f}' if floor else '—',
                     f'{r["checks_us"]:+.1f}' if 'checks_us' in r else '—',
                     f'{r["torch"]["p50"]:.1f} / {r["torch"]["p99"]:.1f}',
                     f'{deploy["p50"]:.1f} / {deploy["p99"]:.1f}' if deploy else '—',
                     f'{numpy["p50"]:.1f} / {numpy["p99"]:.1f}' if numpy else '—',
                     f'**{r["speedup_vs_torch"]:.1f}x** ({r["speedup_round_min"]:.1f}–'
                     f'{r["speedup_round_max"]:.1f})',
                     r['model_source']))
    n = result['rounds'] * result['block']
    gru = result['archs'].get('gru', {})
    parity = gru.get('numpy_max_abs_diff')
    text = [
        '## 1. Step latency',
        '',
        measured_note(result),
        '',
        f'One control step at batch 1 (cart-pole models: 4 observations, 1 action), in µs, '
        f'median / p99 over {n} steps per implementation. The implementations were '
        f'interleaved: {result["rounds"]} rounds, each timing every implementation for '
        f'{result["block"]} steps in a shuffled order, so other load on the machine falls on '
        f'all of them alike. The speed-up is the faster torch form\'s median / the runtime '
        f'median over the whole run (in brackets: its range over the rounds).',
        '',
        table(('arch', 'params', 'state', 'runtime µs', 'onnxruntime alone µs',
               'per-call floor µs', 'checks µs', 'torch eager µs',
               'torch eager, deploy form µs', 'numpy µs', 'runtime vs torch', 'runtime model'),
              rows),
        '',
        '- **runtime**: `ControllerSession.step` — input checks (size, finite, dt > 0), '
        'onnxruntime on pre-bound buffers (IO binding, one thread), output checks, clipping: '
        'what the node pays per tick.',
        '- **onnxruntime alone**: `run_with_iobinding` on the same file without the checks; '
        '**checks** is the runtime median minus this one, in the same run: the price of the '
        'safety checks (target: within 2 µs).',
        '- **per-call floor**: the same binding and call on a graph with the same inputs and '
        'outputs that computes nothing: what onnxruntime costs per call whatever the '
        'network; onnxruntime alone minus this is the network itself.',
        '- **torch eager**: the same `Policy` module (an untrained one of the same arch and '
        'width: the cost of a step does not depend on the weights) under '
        '`torch.inference_mode()` with one thread; **deploy form**: the module that is '
        'exported (training/deploy.py: constants folded into the weights), run eagerly — the '
        'same math as the ONNX file.',
        f'- **numpy**: the GRU policy written out in numpy (float32; max |numpy − torch| over '
        f'20 steps = {f(parity, 7) if parity is not None else "—"}): the floor of any '
        'Python-level implementation; the runtime is close to or below it.',
        f'- Models for the runtime columns: {model_source_note(r[-1] for r in rows)}.',
        '',
        f'![step latency]({img})',
        '',
    ]
    return text


LOOP_SUBJECTS = (('node', 'controller node'),
                 ('node_normal', 'controller node, thread_priority 0'),
                 ('timer', 'plain rclpy timer'),
                 ('bare', 'bare loop (Python, no rclpy)'),
                 ('c_loop', 'bare loop in C'))
TICK_PART_LABELS = (('take', 'take'), ('gather_sink', 'gather + sink'),
                    ('model_step', 'model step'), ('publish', 'publish'))


def section_loop(result, img):
    rows, ratios, breakdown = [], [], []
    for r in result['rows']:
        rate = f'{r["rate_hz"]:g} Hz'
        for subject, label in LOOP_SUBJECTS:
            s = r.get(subject)
            if s is None:
                continue
            tick = s.get('tick_p50_us', s.get('step_p50_us'))
            rows.append((rate, label, f'{s["p50_us"]:.1f}', f'{s["p99_us"]:.1f}',
                         f'{s["max_us"]:.0f}', f'{s["missed_percent"]:.3f}% ({s["missed"]:.0f})',
                         f'{s["ticks"]:.0f}', f(tick, 0), f(s.get('cpu_percent'), 1, '%')))
        if 'p99_to_bare' in r:
            ratios.append((rate, f'**{r["p99_to_bare"]:.2f}x**', f'**{r["missed_to_bare"]:.2f}x**',
                           f'{r["p99_ratio"]:.1f}x',
                           f'{r["c_loop"]["p99_us"]:.1f}' if 'c_loop' in r else '—'))
        node = r['node']
        if 'tick_model_step_p50_us' in node:
            breakdown.append((rate, *(f'{node[f"tick_{part}_p50_us"]:.1f}'
                                      for part, _ in TICK_PART_LABELS),
                              f'{node["tick_p50_us"]:.1f}',
                              f'**{r["tick_to_model_step"]:.2f}x**'))
    priority = result.get('thread_priority')
    fifo = result.get('sched_fifo_permitted')
    scheduling = ''
    if priority:
        scheduling = (f'The node and the bare loops ran at the node\'s default thread_priority '
                      f'{priority}: SCHED_FIFO, which '
                      + ('was permitted here' if fifo else 'was NOT permitted here (normal '
                         'scheduling)')
                      + '; the "thread_priority 0" rows are the node with normal scheduling, '
                        'what a user without real-time permission gets. The plain timer runs '
                        'with normal scheduling, as a plain rclpy node does.')
    text = [
        '## 2. Control-loop timing',
        '',
        measured_note(result),
        '',
        f'Period error |interval − k·period| between consecutive tick starts, in µs, missed '
        f'ticks, the median tick and the CPU of the process (% of one core over the measuring '
        f'window), for: the controller node (its wall-clock loop thread, busy-wait '
        f'{result["busy_wait_us"]} µs to start, adaptive); its floors, the same loop '
        f'(loop.WallClockLoop, same scheduling and busy-wait, its tick stepping the same '
        f'model) alone in a process without rclpy, and the same schedule in C'
        + ('' if result.get('c_compiler', True) else ' (no C compiler here: not measured)')
        + f'; and a plain rclpy node whose timer callback steps the same model and publishes. '
        f'Each runs in its own process, {result["rounds"]} alternating runs of '
        f'{result["duration_s"]:g} s per rate, while JointState messages arrive at the '
        f'control rate (the bare loops have no subscription). Percentiles are averaged over '
        f'the runs (built on `liquid_control_tools.bench.loop_timing_probe`); a run whose '
        f'sensor traffic started late (slow DDS discovery) is run again. {scheduling}',
        '',
        table(('rate', 'loop', 'p50 µs', 'p99 µs', 'max µs', 'missed', 'ticks',
               'tick µs (p50)', 'CPU'), rows),
        '',
    ]
    if ratios:
        text += [
            f'The node against its floors, same run (a floor with no missed tick, or a p99 '
            f'under {P99_RESOLUTION_US:g} µs, is read as {MISSED_RESOLUTION_PERCENT:g}% or '
            f'{P99_RESOLUTION_US:g} µs):',
            '',
            table(('rate', 'p99: node / bare loop', 'missed: node / bare loop',
                   'p99: plain timer / node', 'C loop p99 µs'), ratios),
            '',
        ]
    if breakdown:
        text += [
            'What the node\'s tick is made of (medians over the ticks, µs; the same figures '
            'are in /diagnostics as `tick_<part>_p50_us` and `tick_time_*`): **take** the '
            'queued sensor messages (read from their serialized bytes), **gather + sink** the '
            'observation with the watchdog and the action limits, **model step** the runtime '
            '(onnxruntime and its checks), **publish** the command. The tick also counts the '
            'time between the parts.',
            '',
            table(('rate', *(label for _, label in TICK_PART_LABELS), 'tick',
                   'tick / model step'), breakdown),
            '',
        ]
    return text + [f'![loop timing]({img})', '']


def section_e2e(result, img):
    un, al = result['unsynchronised_us'], result['aligned_us']
    rows = [
        ('free-running sensor (all messages)', un['n'], f'{un["p1"]:.0f}', f'{un["p50"]:.0f}',
         f'{un["p99"]:.0f}'),
        (f'sensor in phase with the loop (best 1/{result["phase_bins"]} of the period)',
         al['n'], f'{al["p1"]:.0f}', f'{al["p50"]:.0f}', f'{al["p99"]:.0f}'),
    ]
    st = result.get('sensor_trigger_us')
    if st:
        rows.append(('trigger: sensor (each message ticks at once)', st['n'], f'{st["p1"]:.0f}',
                     f'{st["p50"]:.0f}', f'{st["p99"]:.0f}'))
    echo = result.get('echo_us')
    if echo:
        rows.append(('floor: bare rclpy echo (callback publishes at once)', echo['n'],
                     f'{echo["p1"]:.0f}', f'{echo["p50"]:.0f}', f'{echo["p99"]:.0f}'))
        rows = [row + (f'{float(row[3]) / echo["p50"]:.2f}x',) for row in rows]
    return [
        '## 3. End-to-end latency',
        '',
        measured_note(result),
        '',
        f'A process publishes sensor_msgs/JointState at {result["rate_hz"]:g} Hz; '
        f'`controller_node` runs in another process at {result["rate_hz"]:g} Hz; the latency '
        f'of a message is the DDS receive time, back in the first process, of the first '
        f'command computed from it, minus the time just before it was published. The node runs '
        f'an echo copy of the CfC controller: the full model runs every step, and the command '
        f'carries the message\'s sequence number. {result["messages"]} messages over '
        f'{result["seconds"]:g} s; {result["superseded"]} were superseded (a newer message '
        f'reached the node before its next tick, so no command came from them).',
        '',
        table(('sensor timing', 'messages', 'p1 µs', 'p50 µs', 'p99 µs')
              + (('p50 / echo p50',) if echo else ()), rows),
        '',
        f'The node is a fixed-rate loop: a message waits for the next tick, 0 to '
        f'{1e3 / result["rate_hz"]:g} ms. The publisher ran slightly faster than the loop so '
        f'its phase swept the whole period evenly; the left plot shows the median latency for '
        f'each phase. A sensor free-running beside the loop sees the whole distribution; a '
        f'sensor published just before the tick (driver and controller on one clock) sees the '
        f'phase-aligned row, which is what the pipeline itself costs: DDS in, take, step, '
        f'publish, DDS out. With `trigger: sensor` the node ticks when the message arrives '
        f'(no wait for a tick). The floor is a bare rclpy node in its own process whose '
        f'JointState callback publishes the command at once: two DDS hops between Python '
        f'processes and rclpy\'s callback, what any rclpy node pays.',
        '',
        f'![end-to-end latency]({img})',
        '',
    ]


def section_cpu(result):
    def spin(r):
        if not r['busy_wait_us']:
            return 'none (sleep only)'
        if r.get('busy_wait_adaptive', True):
            return f'adaptive, from {r["busy_wait_us"]} µs (default)'
        return f'{r["busy_wait_us"]} µs'

    rows = [(f'{r["rate_hz"]:g} Hz', spin(r), f'{r["cpu_percent"]:.1f}%',
             f'{r["cpu_to_sleep_only"]:.2f}x' if 'cpu_to_sleep_only' in r else '',
             f'{r["rss_mib"]:.0f}', f'{r["peak_rss_mib"]:.0f}', r.get('threads', '—'))
            for r in sorted(result['rows'], key=lambda r: (r['rate_hz'], -r['busy_wait_us']))]
    return [
        '## 4. CPU and memory of the node',
        '',
        measured_note(result),
        '',
        f'`controller_node` (CfC cart-pole controller: {result["model_source"]} file) in its own '
        f'process with JointState traffic at the control rate; CPU time (user + system, all '
        f'threads) from /proc/<pid>/stat over each window, as % of one core (resolution '
        f'±{result["resolution_percent"]:.1f}%); resident memory from /proc/<pid>/status. '
        f'The busy-wait is the loop\'s spinning before each deadline, which buys the '
        f'timing of section 2: by default (adaptive) 1.25 times a running 99th percentile of '
        f'how long waking up and taking the sensor messages took, starting from 500 µs. The '
        f'settings alternate window by window (CPU averaged over the windows); the ratio is '
        f'to sleep-only at the same rate.',
        '',
        table(('rate', 'busy-wait', 'CPU (% of one core)', 'vs sleep only', 'RSS MiB',
               'peak RSS MiB', 'threads'), rows),
        '',
    ]


def section_trigger(result):
    def share(k, n, ci):
        return f'{k}/{n} ({ci[0] * 100:.0f}–{ci[1] * 100:.0f}%)'
    rows = []
    for arch in result['archs']:
        for condition in result['conditions']:
            c = result['cells'][f'{arch}/{condition}']
            ref = c.get('reference')
            rows.append((ARCH_LABELS[arch], c['label'],
                         share(c['successes'], c['episodes'], c['success_ci95']),
                         share(ref['successes'], ref['episodes'], ref['success_ci95'])
                         if ref else '—',
                         f'{c["commands"]}', f'{c["bad_commands"]}',
                         f'{c["unfinished"] + c["unclean_exits"]}'))
    return [
        '## 5. trigger: sensor in closed loop',
        '',
        measured_note(result),
        '',
        f'`controller_node` with `trigger: sensor` (a tick per sensor message, dt from the '
        f'message stamps) against `sim_node` in lockstep on the {result["task"]}, '
        f'{result["episodes"]} episodes per cell (one run each: its own processes and DDS '
        f'domain, start states from seeds {result["first_seed"]}–'
        f'{result["first_seed"] + result["episodes"] - 1}, the same for every cell), while '
        f'the simulator samples its sensors periodically at the trained 50 Hz, with each '
        f'interval jittered by up to ±50%, or at Poisson times of mean 50 Hz (an event-driven '
        f'sensor: gaps of four periods and more occur). Success is the simulator\'s verdict '
        f'(95% Wilson interval in brackets). For reference, the same models in the ROS-free '
        f'evaluation of the study (which also steps on each observation with the true dt), '
        f'on the study\'s start states. The last column counts runs that did not finish or '
        f'whose processes did not exit cleanly.',
        '',
        table(('arch', 'sensor sampling', 'success, node over DDS', 'success, ROS-free',
               'commands', 'outside limits', 'failed runs'), rows),
        '',
    ]


def section_training(result):
    rows = []
    total = cpu_total = 0.0
    for r in result['rows']:
        seconds, cpu = r.get('train_seconds'), r.get('train_cpu_seconds')
        total += seconds or 0.0
        cpu_total += cpu or 0.0
        threads = r.get('threads')
        rows.append((r['task'], ARCH_LABELS[r['arch']], r['n_params'],
                     f'{seconds / 60:.1f}' if seconds else 'not trained',
                     f'{cpu / 60:.1f}' if cpu else '—', threads or '—',
                     f'{r["export_bytes"] / 1024:.1f}', r['model_source']))
    totals = []
    if total:
        totals.append(f'Total training of the listed models: {total / 60:.0f} min wall time'
                      + (f', {cpu_total / 60:.0f} min of CPU' if cpu_total else '') + '.')
    # Wall time well above CPU time means the training waited for a core (other work ran).
    contended = bool(cpu_total) and total > 1.2 * cpu_total
    return [
        '## 6. Training cost',
        '',
        measured_note(result),
        '',
        'Training wall time and CPU time as recorded in each model card by `liquid-control '
        'train` (behaviour cloning + DAgger in simulation, CPU only), and the size of the '
        'exported ONNX file. '
        + ('The models were trained on this shared 2-core machine while other work ran: the '
           'wall time includes waiting for a core, so the CPU time is the better measure of '
           'the cost.' if contended else
           'Wall time and CPU time agree: each model had a core to itself (`make models`, '
           'one model after the other).'),
        '',
        table(('task', 'arch', 'params', 'wall time (min)', 'CPU time (min)', 'threads',
               'ONNX KiB', 'file'), rows),
        '',
        *totals,
        '',
    ]


def benchmarks_md(results, out_dir):
    """Write out_dir/benchmarks.md and its figures from `results` {name: result}."""
    out_dir = Path(out_dir)
    img_dir = out_dir / 'img'
    parts = [
        '# Benchmarks',
        '',
        'How fast the liquid_control runtime and node are, measured on this project\'s own '
        'machine. Regenerate everything with `make bench` (`liquid-control bench`); '
        '`liquid-control bench --only NAME` re-runs one benchmark and re-renders the documents. '
        'Ratios are measured side by side in one run: the machine has 2 cores shared with other '
        'work, so absolute figures move from run to run more than the ratios do. The closed-loop '
        'comparison of the architectures is in [study.md](study.md).',
        '',
    ]
    machine = next((r['machine'] for r in results.values() if r and 'machine' in r), None)
    if machine:
        v = machine.get('versions', {})
        parts += [f'Machine: {machine["cpu"]}, {machine["cores"]} cores, {machine["platform"]}; '
                  + ', '.join(f'{k} {val}' for k, val in v.items()) + '.', '']
    rows = targets(results)
    passed = sum(1 for r in rows if r[2] == 'PASS')
    graded = sum(1 for r in rows if r[2] is not None)
    parts += ['## Targets', '',
              f'{passed} of {graded} targets met.', '',
              table(('target', 'measured', 'result', 'note'),
                    [(t, m, v or 'not measured', n) for t, m, v, n in rows]), '']
    misses = [r for r in rows if r[2] == '**MISS**']
    if misses:
        parts += ['Why the misses happen is discussed with each section below and in '
                  '[What the misses mean](#what-the-misses-mean).', '']
    if results.get('step_latency'):
        plots.step_latency(results['step_latency'], img_dir / 'step_latency.png')
        parts += section_step(results['step_latency'], 'img/step_latency.png')
    if results.get('loop_timing'):
        plots.loop_timing(results['loop_timing'], img_dir / 'loop_timing.png')
        parts += section_loop(results['loop_timing'], 'img/loop_timing.png')
    if results.get('e2e_latency'):
        plots.e2e_latency(results['e2e_latency'], img_dir / 'e2e_latency.png')
        parts += section_e2e(results['e2e_latency'], 'img/e2e_latency.png')
    if results.get('cpu_memory'):
        parts += section_cpu(results['cpu_memory'])
    if results.get('trigger_closed_loop'):
        parts += section_trigger(results['trigger_closed_loop'])
    if results.get('training_cost'):
        parts += section_training(results['training_cost'])
    if misses:
        parts += ['## What the misses mean', '']
        parts += [f'- {line}' for line in miss_notes(results, misses)]
        parts += ['']
    path = out_dir / 'benchmarks.md'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('\n'.join(parts).rstrip() + '\n')
    return path


def miss_notes(results, misses):
    """One explanation per kind of missed target, from what the results show."""
    names = ' '.join(m[0] for m in misses)
    notes = []
    step = results.get('step_latency')
    if step and 'checks' in names:
        checks = {a: r['checks_us'] for a, r in step['archs'].items() if 'checks_us' in r}
        notes.append(
            'Runtime checks: the runtime minus onnxruntime alone, per arch: '
            + ', '.join(f'{ARCH_LABELS[a]} {checks[a]:+.1f} µs' for a in ARCHS if a in checks)
            + '. Both run the same file on alternating bound buffers in the same rounds; '
            'the difference is what the runtime does in Python around the call: the dt and '
            'shape checks, one finiteness test of the observation and both outputs (a dot '
            'product), the clip to the action limits (two ufuncs and the returned array). '
            'Timed alone, without onnxruntime, that Python costs about 1.8 µs per step here; '
            'after a graph run it costs twice that and more, because the run has pushed the '
            'interpreter\'s and numpy\'s code and data out of the caches (the larger the '
            'graph, the more). Moving the checks and the clip into the graph (extra nodes '
            'and outputs) was measured no cheaper. Within 2 µs would take the step out of '
            'Python (a compiled extension around onnxruntime\'s C API).')
    if step and 'faster than torch' in names:
        notes.append('Runtime vs torch: see the per-round range in section 1; a ratio under '
                     'the target in every round is the implementation, not noise.')
    loop = results.get('loop_timing')
    if loop and 'bare loop' in names:
        notes.append(
            'Loop against the bare loop: both run the same loop code with the same scheduling '
            'and margin; what the node adds is the other threads of an rclpy process (the '
            'executor, DDS\'s threads) and the taking of the sensor messages before the '
            'deadline, which the adaptive margin must cover. p99 over a few thousand ticks is '
            'the 10th-50th worst tick: one run of the machine\'s host pausing the virtual CPU '
            'moves it by hundreds of µs, in either subject.')
    if loop and 'tick median' in names:
        notes.append(
            'Tick against the model step: see the breakdown in section 2; the parts other '
            'than the step are the price of ROS (take, publish) and of the safety checks '
            '(gather + sink).')
    cpu = results.get('cpu_memory')
    if cpu and 'CPU' in names:
        notes.append(
            'CPU of the default busy-wait: the margin covers 99 in 100 wake-ups, and on this '
            'virtual machine the time from the end of a sleep to ready-to-spin (the wake-up, '
            'then taking the sensor message with caches gone cold while the vCPU idled) has '
            'a long tail: a median of a few hundred µs and a 99th percentile near a '
            'millisecond, so the loop spins for most of a millisecond each tick. '
            '`busy_wait_adaptive: false` with a fixed `busy_wait_us` caps the spinning at '
            'that figure per tick (docs/node.md, "What each loop setting buys").')
    e2e = results.get('e2e_latency')
    if e2e and 'echo' in names:
        bin_us = 1e6 / e2e['rate_hz'] / e2e['phase_bins']
        notes.append(
            f'End-to-end against the echo: the in-phase median is '
            f'{e2e["aligned_us"]["p50"]:.0f} µs against the bare echo\'s '
            f'{e2e["echo_us"]["p50"]:.0f} µs. The echo publishes from its callback; the node '
            f'in phase still waits for its tick (the best 1/{e2e["phase_bins"]} of the period '
            f'spans {bin_us:.0f} µs) and then takes, decodes, checks, steps the model and '
            f'publishes.')
    if e2e and 'trigger: sensor' in names:
        notes.append('trigger: sensor: the tick runs in the executor\'s callback; see section 3.')
    return notes
