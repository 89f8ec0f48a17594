"""The model card written next to each shipped .onnx file."""
from __future__ import annotations

from liquid_control.runtime.integrity import card_sha256_line, forget_records


def _rate(summary):
    low, high = summary['success_ci95']
    return (f"{summary['successes']}/{summary['episodes']} = {100 * summary['success_rate']:.0f}% "
            f"(95% CI {100 * low:.0f}-{100 * high:.0f}%)")


def _means(summary):
    return (f"tracking error {summary['mean_tracking_error']:.4g} (mean), "
            f"{summary['mean_max_tracking_error']:.4g} (mean of episode max); "
            f"return {summary['mean_return']:.4g}")


def _figures_table(task, report):
    """The task's own figures (Task.figures, e.g. how the robot stops), model and expert."""
    if not task.figures:
        return []
    rows = [(who, task.figure_texts(report[key].get('metric_means', {})))
            for who, key in (('this model', 'eval'), ('expert', 'expert_eval'))]
    labels = [label for label, _ in rows[0][1]]
    return ['Task figures (means over the episodes; a time over the episodes that reached it):',
            '',
            '| controller | ' + ' | '.join(labels) + ' |',
            '| --- |' + ' --- |' * len(labels),
            *(f'| {who} | ' + ' | '.join(text for _, text in texts) + ' |'
              for who, texts in rows),
            '']


def _write(path, lines, session):
    """Write a card: its lines, then the records the node checks (the file's sha256 line,
    which runtime.integrity parses) and the weights' sha256."""
    lines = [*lines, card_sha256_line(session.file_sha256),
             f'- weights sha256: `{session.metadata.weights_sha256}`', '']
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def write_card(path, *, session, report, task):
    m = session.metadata
    r = report
    cpu = (f'{r["train_cpu_seconds"]:.0f} s of CPU' if r.get('train_cpu_seconds')
           else 'CPU time not recorded')
    horizon = (f'{r["episode_seconds"]:g} s each' if r['episode_seconds']
               else "each to the task's time limit")
    lines = [
        f'# {m.task}_{m.arch}',
        '',
        f'- arch: `{m.arch}` ({r["cell"]}), {m.n_params} trainable parameters, '
        f'state size {m.n_state}'
        + (f'; {r["ode_unfolds"]} ODE solver step(s) per tick' if r.get('ode_unfolds') else ''),
        f'- task: `{m.task}`; observations {", ".join(m.obs_names)}; actions '
        f'{", ".join(m.action_names)} in [{", ".join(map(str, m.action_low))}] .. '
        f'[{", ".join(map(str, m.action_high))}]; nominal dt {m.nominal_dt} s',
        f'- training: behaviour cloning on {r["expert_episodes"]} expert episodes, then '
        f'{r["dagger_rounds"]} DAgger rounds; {r["episodes"]} episodes / {r["ticks"]} labelled '
        f'ticks in total; {r["grad_steps"]} gradient steps (TBPTT, {r["chunk"]}-tick chunks); '
        f'control period jittered +-{100 * r["dt_jitter"]:.0f}% around nominal, observation '
        f'noise {r["obs_noise"]} x obs_scale; final loss {r["final_loss"]:.4g}',
        '- exported: deployment form (training/deploy.py: constants folded into the weights), '
        'TorchScript ONNX exporter, opset 17',
        f'- training wall time: {r["train_seconds"]:.0f} s ({cpu}) '
        f'on {r["threads"]} thread(s) of a shared 2-core machine; '
        f'seed {m.seed}; source commit `{m.source_commit}`',
        *([f'- note: {r["note"]}'] if r.get('note') else []),
        '',
        f'## Closed-loop evaluation ({r["eval"]["episodes"]} episodes, {horizon}, '
        'same start states for model and expert, nominal rate)',
        '',
        f'Success: {task.success_rule or "as the task defines it"}; tracking error = '
        f'{task.tracking_error or "as the task defines it"}.',
        '',
        '| controller | success | tracking error, return |',
        '| --- | --- | --- |',
        f'| this model (ONNX runtime) | {_rate(r["eval"])} | {_means(r["eval"])} |',
        f'| expert | {_rate(r["expert_eval"])} | {_means(r["expert_eval"])} |',
        '',
        *_figures_table(task, r),
        f'Runtime step time during evaluation: median {r["step_us_median"]:.1f} us, '
        f'p99 {r["step_us_p99"]:.1f} us (ControllerSession.step, one thread, on the same '
        'shared machine while it trained other models: an upper bound).',
        '',
    ]
    _write(path, lines, session)


def rewrite_card(model_path, report_path):
    """Write the card again from a saved run report (runs/<name>.json) and the model file."""
    import json
    from pathlib import Path

    from liquid_control.runtime import load_controller
    from liquid_control.tasks import get_task

    model_path = Path(model_path)
    report = json.loads(Path(report_path).read_text())
    forget_records(model_path)  # re-recording is the point
    write_card(model_path.with_suffix('.md'), session=load_controller(model_path), report=report,
               task=get_task(report['task']))


def _bag_lines(bag):
    files = ', '.join(f'`{name}` sha256 `{digest}`' for name, digest in bag['files'].items())
    counts = ', '.join(f'{topic} {count}' for topic, (_, count) in bag['topics'].items())
    skipped = '; '.join(f'{n} {why}' for why, n in bag['skipped'].items())
    rejected = '; '.join(f'{n} rejected on {topic} ({why})'
                         for topic, (n, why) in bag['rejected'].items())
    notes = '; '.join(x for x in (skipped, rejected,
                                  f'{bag["clipped"]} clipped to the limits' if bag['clipped']
                                  else '') if x)
    return [f'- `{bag["path"]}`: {files}; commands over {bag["span_s"]:.1f} s (time from '
            f'{bag["time_base"]}; the bag spans {bag["duration_s"]:.1f} s of receive time); '
            f'messages: {counts}; {bag["used"]} of {bag["commands"]} '
            f'commands used in {bag["sequences"]} sequence(s)' + (f' ({notes})' if notes else '')]


def write_bag_card(path, *, session, report):
    """The card of a model trained from recorded bags (training/from_bag.py)."""
    m = session.metadata
    r = report
    obs = '; '.join(f'{o["topic"]} ({o["type"]}): {", ".join(o["fields"])}'
                    + (f' against the path on {o["path_topic"]}' if o['path_topic'] else '')
                    for o in r['observations'])
    rmse = ', '.join(f'{name} {err:.4g} (a constant prediction: {r["validation_std"][name]:.4g})'
                     for name, err in r['validation_rmse'].items())
    c = r['config']
    lines = [
        f'# {m.task}_{m.arch}',
        '',
        f'- arch: `{m.arch}` ({r["cell"]}), {m.n_params} trainable parameters, '
        f'state size {m.n_state}',
        f'- trained from recorded runs (behaviour cloning of the recorded commands), with the '
        f'controller parameters file `{r["config_file"]}` (sha256 `{r["config_sha256"]}`)',
        f'- observations: {obs}' + (f'; angles (sin/cos inside the model): '
                                    f'{", ".join(r["angles"])}' if r['angles'] else ''),
        f'- command: {r["command"]["topic"]} ({r["command"]["type"]}): '
        f'{", ".join(m.action_names)} in [{", ".join(map(str, m.action_low))}] .. '
        f'[{", ".join(map(str, m.action_high))}] (action.min/max); nominal dt '
        f'{m.nominal_dt:.4g} s (median time between recorded commands)',
        f'- data: {r["train_commands"]} commands trained on ({r["windows"]} windows of up to '
        f'{c["window_s"]:g} s), {r["validation_commands"]} held out for validation: '
        f'{", ".join(f"`{b}`" for b in r["validation_bags"])}',
        f'- training: {r["epochs"]} epochs, {r["grad_steps"]} gradient steps (TBPTT, '
        f'{c["chunk"]}-tick chunks, batches of {c["batch"]} windows), learning rate '
        f'{c["lr"]:g} -> {c["lr_final"]:g}, observation noise {c["obs_noise"]:g} x each '
        f'observation\'s spread; kept epoch {r["best_epoch"]} (lowest validation error)',
        f'- training wall time: {r["train_seconds"]:.0f} s ({r["train_cpu_seconds"]:.0f} s of '
        f'CPU) on {c["threads"]} thread(s); seed {m.seed}; source commit `{m.source_commit}`',
        '',
        '## Validation (open loop, exported file through the runtime, held-out recordings)',
        '',
        f'RMSE per action: {rmse}. The plot `{m.task}_{m.arch}_validation.png` shows recorded '
        'and predicted commands. Open-loop error says how well the model imitates the '
        'recordings, not how it controls: run it closed loop before trusting it.',
        '',
        '## Recordings',
        '',
        *[line for bag in r['bags'] for line in _bag_lines(bag)],
        '',
    ]
    _write(path, lines, session)
