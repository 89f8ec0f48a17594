"""docs/reliability.md from the results of `liquid-control reliability` (suite.run_all)."""
from __future__ import annotations

import json

from . import oracle
from .mutation import CAUGHT

# Bugs and hazards the runs found. `known` names the oracle.KNOWN_NODE_BUGS entry while such a
# bug is open (its status then reads open); otherwise `status` says where it stands.
FINDINGS = (
    {'known': 'odometry-non-finite-quaternion', 'status': 'fixed in bf6fafa',
     'found_by': 'fuzzing (diff-drive)',
     'what': 'An Odometry whose orientation quaternion holds inf was used when the yaw '
             'computed from it happened to be finite (w = inf, z > 0 gives yaw = pi/2): '
             'garbage became a plausible heading. The extractor checked the derived yaw, not '
             'the message values.',
     'where': 'liquid_control/control/observations.py: now unit_quaternion refuses non-finite or '
              'zero-length quaternions and normalises the rest',
     'test': 'test/ros/test_fuzz_regressions.py'},
    {'known': None, 'status': 'fixed',
     'found_by': 'model integrity review',
     'what': 'The runtime hashed the model file, then let onnxruntime open the path again: '
             'a file replaced between the two was loaded under the old hash, and ONNX '
             'external-data files beside the model were loaded without being hashed.',
     'where': 'liquid_control/runtime/session.py: loads the hashed bytes',
     'test': 'test/unit/test_integrity.py'},
    {'known': None, 'status': 'fixed in fe45814',
     'found_by': 'long run (simulator RSS)',
     'what': 'The cart-pole simulation keeps one record per tick for the whole episode and '
             'turns all of it into an array for every metrics() call (once a second for '
             'sim_node\'s diagnostics): about 0.1 MB more per simulated second at 500 Hz and '
             'a growing CPU cost, without bound while no reset comes (the long run resets '
             'every 30 s, which bounds it there).',
     'where': 'liquid_control/tasks/cartpole/env.py: keeps only the final 2 s window and a running '
              'maximum',
     'test': 'test/integration/test_reliability_sim_memory.py'},
    {'known': None, 'status': 'loop timing mitigated in 4e806e9; CPU cost fixed: the path '
               'is decoded from its serialized bytes, ~13x cheaper (section 1)',
     'found_by': 'fuzzing (diff-drive, long paths)',
     'what': 'A long nav_msgs/Path cost the node much CPU to receive: rclpy built Python '
             'objects for every pose, tens of microseconds per pose (table in section 1), on '
             'the executor thread, holding the GIL in slices of the interpreter\'s switch '
             'interval, and the wall-clock loop missed ticks meanwhile. controller_node\'s '
             'main now sets a 200 us switch interval, which gives the loop the GIL in time '
             '(table). The CPU cost mattered too (Nav2 republishes /plan at up to its planner '
             'rate): the node now takes the path serialized and reads only the positions.',
     'where': 'liquid_control/nodes/controller_node.py path subscription, now raw, read by '
              'liquid_control/control/raw_messages.py PathView',
     'test': 'test/ros/test_raw_messages.py; reliability/paths.py (section 1, long paths)'},
    {'known': None, 'status': 'observation',
     'found_by': 'integrity check during training',
     'what': 'While a model was being retrained, its new .onnx was on disk before its new '
             'card: the integrity check refused it for a moment (card and file disagreed), '
             'as it should. Writing the card before moving the model into place (or both by '
             'rename) closes that window.',
     'where': 'liquid_control/training (model publication order)',
     'test': 'test/unit/test_integrity.py::test_card_sha256_checked_whenever_present'},
)

CI_TESTS = (
    ('test/ros/test_fuzz_node.py', 'hypothesis fuzzing of the in-process node over DDS: 150 '
     'cart-pole and 100 diff-drive cases plus the explicit ones', '~30 s'),
    ('test/ros/test_fuzz_regressions.py', 'the smallest messages that showed a bug', '~5 s'),
    ('test/integration/test_faults_node.py', 'the 8 fault scenarios, nodes as separate '
     'processes', '~70 s'),
    ('test/unit/test_integrity.py', 'sha256 pin and card, bytes loaded = bytes hashed, no external '
     'data, no custom ops, name resolution', '~5 s'),
    ('test/ros/test_integrity_node.py', 'the node\'s model_sha256 and require_sha256 at configure '
     'and at swaps, over the parameter services', '~5 s'),
    ('test/integration/test_reliability_long_run.py', '60 s closed loop at 500 Hz (the CI '
     'version of the 30-minute run)', '~65 s'),
    ('test/integration/test_reliability_sim_memory.py', 'memory of a long simulated episode '
     '(cart-pole and diff-drive)', '~4 s'),
    ('test/ros/test_safe_command_paths.py', 'the safe command when a tick raises, on shutdown '
     'through the lifecycle service and on a failing transition; 30 rapid swaps while '
     'ticking', '~3 s'),
    ('test/ros/test_trial_step_node.py', 'a model that loads but cannot step (NaN weights) is '
     'refused at configure and at a swap, the running one kept', '~2 s'),
    ('test/ros/test_params_file_checks.py', 'a parameters file with a misspelled key, a value '
     'of the wrong type or out of range fails configure naming it', '~2 s'),
    ('test/ros/test_node_signals.py', 'the safe command on SIGTERM, SIGINT, repeated SIGINT '
     'and a dying executor thread, each on a node process of its own', '~15 s'),
    ('test/ros/test_recording.py', 'recording, and a write error (a full disk) stopping the '
     'recording but not the run', '~7 s'),
    ('test/unit/test_code_under_test.py', 'processes started by tests import this checkout, '
     'whatever else is on PYTHONPATH', '~1 s'),
    ('test/ros/test_fastdds_profile.py', 'the Fast DDS profile every started process gets is '
     'read and applied (name-based type matching)', '~2 s'),
    ('test/integration/test_mutation_smoke.py', '`make mutation` on a small project: mutmut '
     'runs, its records become a score and the survivors with their diffs', '~3 s'),
)


def _fmt(v, digits=1):
    if isinstance(v, float):
        return f'{v:.{digits}f}'
    return str(v)


def _yes(ok):
    return 'yes' if ok else '**NO**'


# Each part's own section of the document (the long paths are part of section 1).
SECTIONS = {'fuzz': '## 1. Fuzzing the node inputs', 'paths': '### Long paths',
            'faults': '## 2. Fault scenarios', 'integrity': '## 3. Model integrity',
            'long': '## 4. Long run', 'mutation': '## 5. Mutation testing'}


def _sections(text):
    """{title: lines} of a document, in order, cut at every '## ' title and at the long
    paths' own '### ' one; the text before the first is ''."""
    out, title = {'': []}, ''
    for line in text.splitlines():
        if line.startswith('## ') or line == SECTIONS['paths']:
            title = line
            out[title] = []
        out[title].append(line)
    return out


# Sections made from the code alone, not from results: always rewritten.
FROM_CODE = ('## Bugs and hazards found', '## CI tests')


def splice(previous, rendered, parts):
    """`previous` with the sections of `parts` (and those made from the code alone) taken
    from `rendered`: how a run of some parts updates a document whose other results are not
    on this machine. A section `previous` lacks goes before 'Bugs and hazards found'."""
    old, new = _sections(previous), _sections(rendered)
    for title in [SECTIONS.get(part) for part in parts] + list(FROM_CODE):
        if title not in new:
            continue
        if title not in old:
            keys = list(old)
            at = keys.index('## Bugs and hazards found') if '## Bugs and hazards found' in old \
                else len(keys)
            old = dict(list(old.items())[:at] + [(title, [])] + list(old.items())[at:])
        old[title] = new[title]
    return '\n'.join(line for lines in old.values() for line in lines).rstrip() + '\n'


def render(results):
    lines = ['# Reliability and safety', '',
             'Generated by `liquid-control reliability` (`make bench` runs it) from '
             '`runs/reliability/results.json`; do not edit by hand. The same code runs, shorter, '
             'in `make test` (see [CI tests](#ci-tests)).', '']
    machine = results.get('machine', {})
    if machine:
        lines += [f'Machine: {machine.get("cores")} cores, Python {machine.get("python")}, '
                  f'1-minute load average {machine.get("load_1min_at_start")} at the start '
                  '(other jobs share this machine; timing figures below say under what load).',
                  '']
    lines += _summary(results)
    lines += _fuzz(results.get('fuzz'))
    lines += _paths(results.get('paths'))
    lines += _faults(results.get('faults'))
    lines += _integrity(results.get('integrity'))
    lines += _long(results.get('long'))
    lines += _mutation(results.get('mutation'))
    lines += _findings()
    lines += _open(results)
    lines += _ci()
    return '\n'.join(lines).rstrip() + '\n'


def _summary(r):
    rows = ['## Summary', '', '| run | tried | crashes | non-finite / out-of-limit commands '
            '| result |', '| --- | --- | --- | --- | --- |']
    for task, f in (r.get('fuzz') or {}).items():
        if not isinstance(f, dict) or 'cases' not in f:
            continue
        bad = f['non_finite_commands'] + f['out_of_limit_commands'] + f['malformed_commands']
        ok = f['failure'] is None and f['crashes'] == 0 and bad == 0
        rows.append(f'| fuzzing, {task} | {f["cases"]} cases, {f["messages"]} messages | '
                    f'{f["crashes"]} | {f["non_finite_commands"]} / '
                    f'{f["out_of_limit_commands"]} of {f["commands"]} | '
                    f'{"passed" if ok else "**FAILED**"} |')
    faults = r.get('faults')
    if faults:
        bad = sum(s['figures'].get('bad_commands', 0) for s in faults['scenarios'])
        rows.append(f'| fault scenarios | {faults["total"]} scenarios | '
                    f'{faults["total"] - faults["survived"]} not survived | {bad} | '
                    f'{faults["survived"]}/{faults["total"]} survived |')
    integ = r.get('integrity')
    if integ:
        rows.append(f'| model integrity | {integ["total"]} shipped models | - | - | '
                    f'{integ["verified"]}/{integ["total"]} match their card |')
    long = r.get('long')
    if long:
        growth = long.get('rss_controller_growth_mb')
        failed = [c['check'] for c in long['checks'] if c.get('required', True) and not c['ok']]
        verdict = 'passed' if long['survived'] else '**not met: ' + '; '.join(failed) + '**'
        rows.append(
            f'| long run | {_fmt(long.get("ran_s", 0) / 60, 1)} min at '
            f'{long["rate_hz"]:g} Hz, {long.get("commands", 0)} commands | '
            f'{0 if all(long["processes_alive_at_end"].values()) else 1} | '
            f'{long["non_finite_commands"]} / {long["out_of_limit_commands"]} | '
            f'{verdict}; controller RSS growth '
            f'{_fmt(growth, 2) if growth is not None else "?"} MB; longest gap between '
            f'commands {_fmt(long.get("longest_gap_ms", 0))} ms |')
    mutation = r.get('mutation')
    if mutation:
        rows.append(f'| mutation testing | {mutation["total"]} mutants of the safety core | - | '
                    f'- | {_score(mutation)} caught; {mutation["survived"]} survived, '
                    f'{mutation["equivalent"]} equivalent |')
    return rows + ['']


MUTATION_TARGET = 0.90


def _score(m):
    return '-' if m['score'] is None else f'{100 * m["score"]:.1f}%'


def _mutation(m):
    out = ['## 5. Mutation testing', '',
           'mutmut changes the safety core one small edit at a time (an operator, a constant, '
           'a condition, a returned value, an argument dropped) and runs the fast tests that '
           'reach the changed function (`pytest -m "not slow"`); a mutant is caught when a '
           'test fails or hangs on it. Files and test selection: setup.cfg `[mutmut]`; run '
           'it with `make mutation` (it resumes where it stopped and re-tests what changed). '
           f'Target: {100 * MUTATION_TARGET:.0f}% of the mutants that are not equivalent '
           'caught.', '']
    if not m:
        return out + ['Not run yet.', '']
    scratch = m.get('mutant_seconds')
    cost = (f'; from scratch the mutants\' test runs add up to {_fmt(scratch / 60, 0)} min, '
            'about half that on two cores' if scratch else '')
    out += [f'Run {m.get("run_at", "?")} ({_fmt(m.get("run_seconds", 0) / 60, 1)} min: it '
            f're-tested what had changed{cost}): **{_score(m)}** of '
            f'{m["total"] - m["equivalent"]} non-equivalent mutants caught ({m["caught"]} '
            f'caught, {m["survived"]} survived, {m["equivalent"]} argued equivalent below). '
            'A mutant that makes a test hang counts as caught when it exceeds a CPU limit of '
            'twice its tests\' own time plus 2 s.', '',
            '| file | mutants | caught | survived or not tested |', '| --- | --- | --- | --- |']
    for path, counts in sorted(m['files'].items()):
        caught = sum(counts.get(s, 0) for s in CAUGHT)
        total = sum(counts.values())
        out.append(f'| `{path}` | {total} | {caught} | {total - caught} |')
    out.append('')
    for title, argued in (('Surviving mutants', False), ('Equivalent mutants', True)):
        group = [s for s in m['survivors'] if bool(s['equivalent']) == argued]
        out += [f'### {title} ({len(group)})', '']
        if not group:
            out += ['None.', '']
            continue
        for s in group:
            why = f' Equivalent: {s["equivalent"]}' if argued else ''
            out += [f'`{s["key"]}` ({s["status"]}).{why}', '', '```diff',
                    s['diff'].strip(), '```', '']
    return out


def _fuzz(fuzz):
    out = ['## 1. Fuzzing the node inputs', '',
           'The real `ControllerNode` (config/<task>.yaml) runs in this process with its '
           'wall-clock loop at 200 Hz; a second node publishes to it and subscribes to its '
           'commands and /diagnostics over DDS (tools/liquid_control_tools/reliability/fuzz.py). '
           'Hypothesis draws each case: a few sensor messages sent one at a time, or repeated '
           'as a burst of 20-400 messages published as fast as possible (about 100 times the '
           'control rate). For diff-drive, odometry and paths interleave; a burst repeats the '
           'odometry and sends its paths once, as a planner would. After every case good data '
           'follows.', '',
           'Checked for every case: no crash (no exception from a callback or the control '
           'tick, the node stays active); every command finite and within the limits (checked '
           'on arrival, all of them); every message sent one at a time used or rejected exactly '
           'as an independent oracle (reliability/oracle.py) predicts, the rejected ones '
           'counted; then, with good data, a command computed from that data within 5 s (the '
           'model is wrapped as an echo of its observation, so the command shows which message '
           'it came from, while the whole original graph still runs). At the end the '
           'rejection count on /diagnostics must equal the node\'s counter.', '']
    if not fuzz:
        return out + ['_Not run yet._', '']
    for task, f in fuzz.items():
        if not isinstance(f, dict) or 'cases' not in f:
            continue
        single = f['messages'] - f['burst_messages']
        out += [f'### {task}', '',
                f'Model: {f.get("model", "?")}. Run {fuzz.get("run_at", "")}, '
                f'{_fmt(f["seconds"], 0)} s.', '',
                '| figure | value |', '| --- | --- |',
                f'| cases tried | {f["cases"]} ({f["burst_cases"]} bursts) |',
                f'| messages sent | {f["messages"]} ({single} one at a time, '
                f'{f["burst_messages"]} in bursts) |',
                f'| oracle: good / bad / either / ignored (one at a time) | '
                f'{f["expected"].get("good", 0)} / {f["expected"].get("bad", 0)} / '
                f'{f["expected"].get("either", 0)} / {f["expected"].get("ignored", 0)} |',
                f'| node: used / rejected messages / rejected steps | {f["node_received"]} / '
                f'{f["node_rejected_messages"]} / {f["node_rejected_steps"]} |',
                f'| rejections on /diagnostics equal the node\'s count | '
                f'{_yes(f["diagnostics_match"])} ({f["diagnostics_rejected_messages"]}) |',
                f'| crashes | {f["crashes"]} |',
                f'| commands checked | {f["commands"]} ({f["safe_commands"]} safe) |',
                f'| non-finite / out-of-limit / malformed commands | '
                f'{f["non_finite_commands"]} / {f["out_of_limit_commands"]} / '
                f'{f["malformed_commands"]} |',
                f'| oracle mismatches | {f["oracle_mismatches"]} |',
                f'| counts that a re-send showed belonged to another message in flight | '
                f'{f.get("recounted_messages", 0)} |',
                f'| control resumed on good data | {f["cases"] - f["resume_failures"]} of '
                f'{f["cases"]} cases (p50 {_fmt(f["resume_latency_ms_p50"])} ms, max '
                f'{_fmt(f["resume_latency_ms_max"])} ms) |',
                f'| messages lost in transport (not counted either way) | '
                f'{f["lost_messages"]} |',
                f'| messages hitting a known, open node bug | {f.get("known_bug_messages", 0)} |',
                f'| property broken | {f["failure"] or "none"} |', '',
                'Oddities tried (messages carrying each; one message may carry several):', '',
                ', '.join(f'{k} {v}' for k, v in f['tags'].items()), '']
    return out


def _paths(paths):
    if not paths:
        return []
    node_ms = paths.get('node_switch_interval_ms', 0.0)
    out = ['### Long paths', '',
           'What a nav_msgs/Path of many poses costs the diff-drive node to receive '
           '(reliability/paths.py): rclpy\'s conversion of the serialized message (what the '
           'node did before), the node\'s decoder of the serialized path '
           '(raw_messages.PathView, what it does now), and the ticks the 200 Hz loop missed '
           'while the node took it (node and publisher in one process), with Python\'s '
           f'default 5 ms GIL switch interval and with the {node_ms:g} ms controller_node '
           'sets.', '',
           '| poses | message size | rclpy deserialization | node decoder | missed ticks, '
           f'5 ms switch | missed ticks, {node_ms:g} ms switch | taken after ({node_ms:g} ms) |',
           '| --- | --- | --- | --- | --- | --- | --- |']
    for n, f in paths['sizes'].items():
        decode = f'{f["decode_ms"]:.2f} ms' if 'decode_ms' in f else '-'
        out.append(f'| {n} | {f["bytes"] / 1000:.0f} kB | {f["deserialize_ms"]:.1f} ms | '
                   f'{decode} | {f.get("missed_ticks_default", "?")} | '
                   f'{f.get("missed_ticks_node", "?")} | {f.get("seconds_to_take_node", "?")} s |')
    return out + ['']


def _faults(faults):
    out = ['## 2. Fault scenarios', '',
           'Each scenario starts `controller_node` (and `sim_node` where it takes part) as '
           'separate processes with config/cartpole.yaml, injects one fault and checks over DDS '
           'what must happen (tools/liquid_control_tools/reliability/faults.py). Every '
           'command published in every scenario is checked on arrival: finite and within the '
           'limits.', '']
    if not faults:
        return out + ['_Not run yet._', '']
    out += [f'Model: {faults.get("model", "?")}. Run {faults.get("run_at", "")}. '
            f'**{faults["survived"]} of {faults["total"]} survived.**', '',
            '| scenario | survived | checks | figures |', '| --- | --- | --- | --- |']
    for s in faults['scenarios']:
        figures = {k: v for k, v in s['figures'].items() if k != 'rejections'}
        ok = sum(c['ok'] for c in s['checks'])
        out.append(f'| {s["scenario"]} | {_yes(s["survived"])} | {ok}/{len(s["checks"])} | '
                   f'{json.dumps(figures)} |')
    out.append('')
    for s in faults['scenarios']:
        out += [f'### {s["scenario"]}', '']
        out += [f'- {"ok" if c["ok"] else "**FAILED**"}: {c["check"]}'
                + (f' ({c["detail"]})' if c['detail'] and not c['ok'] else '')
                for c in s['checks']]
        rejections = s['figures'].get('rejections')
        if rejections:
            out += ['', '| parameter | value | rejected | reason |', '| --- | --- | --- | --- |']
            out += [f'| `{x["parameter"]}` | `{x["value"]}` | {_yes(x["rejected"])} | '
                    f'{x["reason"].replace("|", "/")} |' for x in rejections]
        out.append('')
    return out


def _node_integrity_parameters():
    try:
        from liquid_control.control.params import SPECS
    except ImportError:
        return None
    return [SPECS[n] for n in ('model_sha256', 'require_sha256') if n in SPECS]


def _integrity(integ):
    out = ['## 3. Model integrity', '',
           'A controller is one self-contained .onnx file. The runtime reads it once, hashes '
           'those bytes and gives the same bytes to onnxruntime (never the path), so the file '
           'checked is the file run, and ONNX external-data files are refused '
           '(liquid_control/runtime/integrity.py). onnxruntime runs with the CPU provider and '
           'its own operators only: no custom-op library is registered, and a model using an '
           'operator outside that set does not load.', '',
           'The expected sha256 comes from a pin, or from the record next to the file: the '
           'model card `<name>.md` (its `file sha256` line, written by `liquid-control train`) '
           'or a sidecar `<name>.onnx.sha256` in `sha256sum` format. A record that exists is '
           'always checked (a card that disagrees with its model means the file changed after '
           'it was shipped); requiring one refuses models without a record.', '']
    params = _node_integrity_parameters()
    if params:
        out += ['Node parameters (`liquid_controller`):', '']
        out += [f'- `{p.name}` ({p.kind}, default `{p.default!r}`'
                f'{", read-only" if p.read_only else ""}): {p.description}' for p in params]
        out += ['', 'On a robot, set `require_sha256: true` in the parameters file: every shipped '
                'model has its card, and a model copied in without one is then refused. To pin '
                'one file (a certified deployment), also set `model_sha256`.', '']
    else:
        out += ['In the runtime API: `load_controller(path, expected_sha256=..., '
                'require_recorded_sha256=...)`. The node parameters that pass them through '
                '(`model_sha256`, `require_sha256`) are not in the node yet.', '']
    out += ['Model names (`model: cartpole_cfc`) resolve only in the configured directories: '
            '`LIQUID_CONTROL_MODEL_PATH` (absolute entries only), share/liquid_control/models, '
            'the source tree\'s models/, and the model folders installed task packages register '
            '(entry point group liquid_control.models: installing a package is trusting it). '
            'Never the working directory; a name is a plain file stem and cannot climb out '
            '(`..`, `~`, separators are refused). Any other file must be given explicitly as a '
            'path.', '']
    if not integ:
        return out + ['_Shipped models not checked yet._', '']
    if not integ['models']:
        return out + [f'No shipped models in {integ["models_dir"]} at the time of the run.', '']
    out += [f'Shipped models checked against their cards ({integ.get("run_at", "")}): '
            f'**{integ["verified"]} of {integ["total"]} match.**', '',
            '| model | sha256 | recorded in | match |', '| --- | --- | --- | --- |']
    out += [f'| {e["model"]} | `{(e["sha256"] or "")[:16]}...` | {e["recorded_in"] or "-"} | '
            f'{_yes(e["ok"])}{" " + e["problem"] if e["problem"] else ""} |'
            for e in integ['models']]
    return out + ['']


def _long(long):
    out = ['## 4. Long run', '',
           '`sim_node` (real time, cart-pole, sensors at the control rate) and '
           '`controller_node` (wall-clock loop, config/cartpole.yaml with the rate and a '
           'sensor_timeout_s of 0.1 s = 50 periods) as separate processes over DDS, the loop '
           'closed through the simulation, the episode reset every 30 s through `~/reset`. Once a '
           'second, when the controller\'s diagnostics arrive, both processes\' resident memory '
           '(VmRSS) and the controller\'s window figures are sampled; the gaps between '
           'consecutive commands are measured with the controller\'s own publish timestamps '
           '(tools/liquid_control_tools/reliability/longrun.py). Memory growth is taken after '
           'a warm-up.', '']
    if not long:
        return out + ['_Not run yet._', '']
    g = long.get('command_gaps_in_periods', {})
    out += [f'Model: {long.get("model", "?")}. Run {long.get("run_at", "")}.', '',
            '| figure | value |', '| --- | --- |',
            f'| duration, rate | {_fmt(long.get("ran_s", 0) / 60, 1)} min at '
            f'{long["rate_hz"]:g} Hz ({long.get("ticks", 0)} ticks, '
            f'{long.get("episode_resets", 0)} episode resets) |',
            f'| crashes | {0 if all(long["processes_alive_at_end"].values()) else 1} '
            f'(controller exit code on SIGINT: {long["controller_exit_code"]}) |',
            f'| commands checked | {long["commands"]} |',
            f'| non-finite / out-of-limit / malformed commands | {long["non_finite_commands"]} '
            f'/ {long["out_of_limit_commands"]} / {long["malformed_commands"]} |',
            f'| controller RSS after warm-up ({_fmt(long["warmup_s"], 0)} s) -> end | '
            f'{_fmt(long.get("rss_controller_start_mb", 0))} -> '
            f'{_fmt(long.get("rss_controller_end_mb", 0))} MB: growth '
            f'**{_fmt(long.get("rss_controller_growth_mb", 0), 2)} MB** (limit 5 MB); '
            f'trend {_fmt(long.get("rss_controller_slope_mb_per_h", 0), 2)} MB/h |',
            f'| simulator RSS growth | {_fmt(long.get("rss_sim_growth_mb", 0), 2)} MB |',
            f'| missed ticks | {long.get("missed_ticks")} '
            f'({_fmt(100 * long.get("missed_share", 0), 2)} %), at most '
            f'{long.get("max_missed_in_window")} in one 1-s window |',
            f'| longest gap between two commands | {_fmt(long.get("longest_gap_ms", 0))} ms '
            f'({_fmt(long.get("longest_gap_ms", 0) * long["rate_hz"] / 1000)} periods) |',
            '| gaps between commands, in periods | '
            + ', '.join(f'{k}: {v}' for k, v in g.items()) + ' |',
            f'| tick time p50: first quarter -> last quarter | '
            f'{_fmt(long.get("step_p50_first_quarter_us", 0))} -> '
            f'{_fmt(long.get("step_p50_last_quarter_us", 0))} us (ratio '
            f'{_fmt(long.get("step_drift_ratio") or 0, 2)}) |',
            f'| tick time p99 (worst window), max | {_fmt(long.get("step_p99_us_max", 0))} us, '
            f'{_fmt(long.get("step_max_us", 0))} us |',
            f'| period error p99 (median window) | '
            f'{_fmt(long.get("period_error_p99_us_median", 0))} us |',
            f'| watchdog trips, simulator command timeouts | {long.get("watchdog_trips")}, '
            f'{long.get("sim_command_timeouts")} |',
            f'| controller CPU | {_fmt(100 * long.get("controller_cpu_share", 0), 0)} % of a '
            f'core; loop thread scheduling: '
            f'{long.get("loop_scheduling") or "not recorded in this run"} |',
            f'| machine load (1 min) median / max | {_fmt(long.get("load_1min_median", 0))} / '
            f'{_fmt(long.get("load_1min_max", 0))} on {long.get("cores", 2)} cores |', '',
            'Checks (required ones are properties of the node; the others measure the machine '
            'as much as the node):', '']
    out += [f'- {"ok" if c["ok"] else "**not met**"}'
            f'{"" if c.get("required", True) else " (timing, not required)"}: {c["check"]} '
            f'({c["detail"]})' for c in long['checks']]
    return out + [''] + _long_series(long.get('series'))


def _long_series(series, rows=10):
    """The run in `rows` equal spans: memory at the end of each, missed ticks and the median
    tick time within it, and the machine's load."""
    if not series or len(series.get('t', ())) < rows:
        return []
    t = series['t']
    n = len(t)
    out = ['Over the run (each row one tenth of it):', '',
           '| until (s) | controller RSS (MB) | simulator RSS (MB) | missed ticks | '
           'tick p50 (us, median) | longest gap (periods) | load (1 min) |',
           '| --- | --- | --- | --- | --- | --- | --- |']
    worst = None
    for k in range(rows):
        a, b = k * n // rows, (k + 1) * n // rows
        if b <= a:
            continue
        step = sorted(series['step_p50_us'][a:b])[(b - a) // 2]
        gap, load = max(series['max_gap_periods'][a:b]), max(series['load_1min'][a:b])
        if worst is None or gap > worst[0]:
            worst = (gap, t[b - 1], load)
        out.append(f'| {t[b - 1]:.0f} | {series["rss_controller_mb"][b - 1]:.2f} | '
                   f'{series["rss_sim_mb"][b - 1]:.2f} | {sum(series["missed"][a:b])} | '
                   f'{step:.0f} | {gap:.1f} | {load:.1f} |')
    loads = sorted(series['load_1min'])
    out += ['', f'The longest gap ({worst[0]:.0f} periods) fell in the span ending at '
            f'{worst[1]:.0f} s, where the 1-minute load average reached {worst[2]:.1f} '
            f'(median of the run {loads[len(loads) // 2]:.1f}) on this 2-core machine shared '
            'with other jobs.']
    return out + ['']


def _findings():
    out = ['## Bugs and hazards found', '', '| found by | what | where | status | test |',
           '| --- | --- | --- | --- | --- |']
    for f in FINDINGS:
        status = 'open' if f['known'] and f['known'] in oracle.KNOWN_NODE_BUGS else f['status']
        out.append(f'| {f["found_by"]} | {f["what"]} | {f["where"]} | {status} | '
                   f'`{f["test"]}` |')
    return out + ['']


def _open(r):
    items = [f'- {f["what"]} ({f["where"]}; `{f["test"]}`)' for f in FINDINGS
             if f['known'] and f['known'] in oracle.KNOWN_NODE_BUGS
             or 'open' in f['status']]
    for task, f in (r.get('fuzz') or {}).items():
        if isinstance(f, dict) and f.get('failure'):
            items.append(f'- fuzzing {task}: {f["failure"][:300]}')
    for s in (r.get('faults') or {}).get('scenarios', []):
        for c in s['checks']:
            if not c['ok']:
                items.append(f'- fault {s["scenario"]}: {c["check"]} ({c["detail"][:200]})')
    for c in (r.get('long') or {}).get('checks', []):
        if not c['ok']:
            kind = '' if c.get('required', True) else ' (timing)'
            items.append(f'- long run{kind}: {c["check"]} ({c["detail"]})')
    return ['## Not yet survived', ''] + (items or ['Nothing: every check above held.']) + ['']


def _ci():
    out = ['## CI tests', '',
           '`make test` runs the same harnesses, shorter (about 3 minutes in all):', '',
           '| test | what | time |', '| --- | --- | --- |']
    out += [f'| `{name}` | {what} | {t} |' for name, what, t in CI_TESTS]
    out += ['', 'Each test run (and each `liquid-control reliability` run) uses a ROS_DOMAIN_ID '
            'of its own (test sessions from 51-101, runs from 1-50, so the two never meet), '
            'ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and a temporary ROS_LOG_DIR (a test '
            'session removes its own); a test module that leaves a child process running '
            'fails. '
            'The harnesses wait on events, condition variables or polled conditions, each with '
            'a deadline; no fixed sleep stands in for synchronisation.', '',
            'Run it all: `liquid-control reliability` (about 35 minutes: 2000 cases per task, the '
            'scenarios, 30 minutes at 500 Hz, plus the mutation run of section 5); `--quick` '
            'for a few minutes; `--only fuzz` etc. for one part (the document keeps the last '
            'results, or the sections, of the others); `make mutation` is `--only mutation`.',
            '']
    return out
