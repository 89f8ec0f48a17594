"""Read a run's bag back and summarise it (ROS-free: rosbags and numpy).

Everything in the summary comes from the recording, so a summary is also a check that the
bag holds what the run published:
  - episode result: the simulator's own metrics (success, tracking error), from its last
    /diagnostics status (`episode.*` keys);
  - loop timing: the controller's /diagnostics windows (period error and step time
    percentiles, missed ticks);
  - commands: every recorded command checked for non-finite values and for values outside
    the task's limits;
  - completeness: the sensor messages the simulator reports publishing against those in the
    bag.
Commands carry no time stamp; each is placed at the sim time of the last /clock recorded
before it (its receive time is the bag's time stamp).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from liquid_control.interfaces import (CLOCK, CONTROLLER_STATUS_SUFFIX, DIAGNOSTICS, PATH,
                                       SIM_STATUS_NAME, absolute)
from liquid_control.control.loop import TICK_PARTS
from liquid_control.tasks import get_task

from .bag import bag_info, read_bag

TICK_LABELS = {'take': 'take', 'gather_sink': 'gather+limits', 'model_step': 'model step',
               'publish': 'publish'}


def _stamp(header_stamp):
    return header_stamp.sec + header_stamp.nanosec * 1e-9


@dataclass
class RunData:
    task: str
    clock_recv: np.ndarray          # receive time ns of each /clock
    clock_sim: np.ndarray           # its sim time, s
    signals: dict                   # name -> (times s, values): what the outputs published
    command_recv: np.ndarray
    command_time: np.ndarray        # sim time s (last /clock before it)
    command: np.ndarray             # (N, n_act), as recorded (not clipped), in the episode
    command_all: np.ndarray         # every command recorded, in arrival order
    path: np.ndarray | None = None  # the last path published, (N, 2), if the task has one
    paths: int = 0
    sim_diagnostics: list = field(default_factory=list)         # (recv ns, message, dict)
    controller_diagnostics: list = field(default_factory=list)  # (recv ns, message, dict)
    counts: dict = field(default_factory=dict)
    episode_start: float = math.nan  # sim time s of the (last) episode's start

    @property
    def start_time(self):
        """Sim time of the first sensor sample recorded (the plot's time origin)."""
        firsts = [times[0] for times, _ in self.signals.values() if len(times)]
        return min(firsts) if firsts else math.nan


def load_run(bag_path, task):
    task = get_task(task)
    io = task.sim_io
    outputs = {absolute(o.topic): o for o in io.outputs}
    command_topic = absolute(io.command.topic)
    clock_recv, clock_sim = [], []
    series = {}                      # signal -> [(time, value)]
    last_stamp = {}
    cmd_recv, cmd = [], []
    path, paths = None, 0
    sim_diag, ctrl_diag = [], []
    counts = {}
    for topic, _, recv, msg in read_bag(bag_path):
        counts[topic] = counts.get(topic, 0) + 1
        if topic == CLOCK:
            clock_recv.append(recv)
            clock_sim.append(_stamp(msg.clock))
        elif topic in outputs:
            output = outputs[topic]
            if output.msg_type == PATH:
                path = np.array([(ps.pose.position.x, ps.pose.position.y) for ps in msg.poses])
                paths += 1
                continue
            t = _stamp(msg.header.stamp)
            # While the simulator is paused it republishes the same instant: keep one.
            if last_stamp.get(topic) == t:
                continue
            last_stamp[topic] = t
            for name, value in output.signals(msg).items():
                series.setdefault(name, []).append((t, value))
        elif topic == command_topic:
            cmd_recv.append(recv)
            values = list(io.command.values(msg))
            cmd.append(values if len(values) == task.n_act else [math.nan] * task.n_act)
        elif topic == DIAGNOSTICS:
            for status in msg.status:
                values = {kv.key: kv.value for kv in status.values}
                if status.name == SIM_STATUS_NAME:
                    sim_diag.append((recv, status.message, values))
                elif status.name.endswith(CONTROLLER_STATUS_SUFFIX):
                    ctrl_diag.append((recv, status.message, values))
    clock_recv = np.asarray(clock_recv, dtype=np.int64)
    clock_sim = np.asarray(clock_sim, dtype=np.float64)
    cmd_recv = np.asarray(cmd_recv, dtype=np.int64)
    signals = {name: (np.array([t for t, _ in rows]), np.array([v for _, v in rows]))
               for name, rows in series.items()}
    command_time = sim_time_of(cmd_recv, clock_recv, clock_sim)
    command = np.asarray(cmd, dtype=np.float64).reshape(-1, task.n_act)
    # The (last) episode: from the simulator's episode start on. Before it, the simulator
    # held the start state still until the controller answered.
    # When it finished, its last state is recorded but commands answering it (or sent when
    # the controller stopped) came after the end and were not applied.
    final = sim_diag[-1][2] if sim_diag else {}
    # Commands are placed in time by the last /clock recorded before them; as they come
    # from another process than /clock, that is within one publish period.
    command_all = command
    # (Only once an episode has started: until then the start moves with the clock.)
    start = _float(final.get('episode_start')) if final.get('running') == 'true' else math.nan
    end = start + _float(final.get('episode_time')) if final.get('finished') == 'true' \
        else math.inf
    if math.isfinite(start):
        period = float(np.median(np.diff(np.unique(clock_sim)))) if len(clock_sim) > 2 else 0
        signals = {name: (times[times >= start - 1e-9], values[times >= start - 1e-9])
                   for name, (times, values) in signals.items()}
        keep = ~(command_time < start - period - 1e-9) & ~(command_time >= end - 1e-9)
        cmd_recv, command_time, command = cmd_recv[keep], command_time[keep], command[keep]
    return RunData(
        task=task.name, clock_recv=clock_recv, clock_sim=clock_sim, signals=signals,
        command_recv=cmd_recv, command_time=command_time, command=command,
        command_all=command_all, path=path, paths=paths, sim_diagnostics=sim_diag,
        controller_diagnostics=ctrl_diag, counts=counts, episode_start=start)


def sim_time_of(recv_ns, clock_recv, clock_sim):
    """Sim time of events received at recv_ns: that of the last /clock received before."""
    if len(clock_recv) == 0:
        return np.full(len(recv_ns), np.nan)
    idx = np.searchsorted(clock_recv, recv_ns, side='right') - 1
    return np.where(idx >= 0, clock_sim[np.clip(idx, 0, None)], np.nan)


def _float(value, default=math.nan):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def command_check(commands, task):
    """Counts of recorded commands: total, non-finite, outside the limits."""
    commands = np.asarray(commands, dtype=np.float64).reshape(-1, task.n_act)
    finite = np.all(np.isfinite(commands), axis=1)
    low, high = np.asarray(task.action_low), np.asarray(task.action_high)
    outside = finite & np.any((commands < low) | (commands > high), axis=1)
    return {'count': int(len(commands)), 'non_finite': int((~finite).sum()),
            'out_of_limits': int(outside.sum()),
            'min': commands[finite].min(axis=0).tolist() if finite.any() else [],
            'max': commands[finite].max(axis=0).tolist() if finite.any() else []}


def loop_timing(controller_diagnostics):
    """Aggregate the controller's 1 s diagnostics windows (and its latest counters)."""
    windows = [v for _, _, v in controller_diagnostics if 'period_error_p99_us' in v]
    out = {'windows': len(windows)}
    for key, how in (('period_error_p50_us', np.median), ('period_error_p99_us', np.max),
                     ('period_error_max_us', np.max), ('tick_time_p50_us', np.median),
                     ('tick_time_p99_us', np.max),
                     *((f'tick_{part}_p50_us', np.median) for part in TICK_PARTS)):
        values = [_float(w.get(key)) for w in windows if key in w]
        values = [v for v in values if math.isfinite(v)]
        if values:
            out[key] = float(how(values))
    if controller_diagnostics:
        last = controller_diagnostics[-1][2]
        for key in ('missed_ticks_total', 'watchdog_trips', 'rejected_messages',
                    'rejected_steps', 'safe_commands', 'commands_published'):
            if key in last:
                out[key] = int(_float(last[key], 0))
        for key in ('model', 'model_sha256', 'arch', 'clock', 'control_rate_hz',
                    'lifecycle_state'):
            if key in last:
                out[key] = last[key]
    return out


def summarize_run(run, bag_path=None):
    """The run's summary as a plain dict (JSON-serialisable)."""
    task = get_task(run.task)
    summary = {'task': run.task}
    final = run.sim_diagnostics[-1][2] if run.sim_diagnostics else {}
    episode = {k[len('episode.'):]: v for k, v in final.items() if k.startswith('episode.')}
    summary['episode'] = {
        'success': episode.get('success') == 'true',
        'tracking_error': _float(episode.get('tracking_error')),
        'max_tracking_error': _float(episode.get('max_tracking_error')),
        'metrics': episode,
        'finished': final.get('finished') == 'true',
        'episode_time_s': _float(final.get('episode_time')),
    }
    summary['simulator'] = {k: final[k] for k in (
        'mode', 'real_time_factor', 'commands_received', 'commands_rejected',
        'commands_clipped', 'command_timeouts', 'lockstep_timeouts', 'realtime_overruns',
        'sensor_messages_published', 'sensor_messages_dropped') if k in final}
    summary['loop_timing'] = loop_timing(run.controller_diagnostics)
    summary['commands'] = command_check(run.command_all, task)
    summary['recording'] = {
        'messages': dict(sorted(run.counts.items())),
        'sensor_messages_missing': sensor_messages_missing(task, run.counts, final)}
    if bag_path is not None:
        info = bag_info(bag_path)
        summary['recording'].update(path=str(bag_path), duration_s=info['duration_s'],
                                    files=info['files'])
    summary['episode']['lines'] = metric_lines(task, episode)
    return summary


def sensor_messages_missing(task, counts, sim_status):
    """Sensor messages the simulator published in its episode that the bag lacks (0 when the
    simulator does not report its count, as Gazebo does not).

    A recorder starved of CPU falls behind the publishers' history and DDS drops the rest
    for it; the closed loop itself is not affected. Messages republished while the simulator
    was paused are recorded but not counted as published, so this is a lower bound."""
    published = sim_status.get('sensor_messages_published')
    if published is None:
        return 0
    measured = {absolute(o.topic) for o in task.sim_io.measured}
    return max(int(published) - sum(counts.get(topic, 0) for topic in measured), 0)


def metric_lines(task, metrics):
    """The task's own summary lines (Task.summary) for the metrics it reported."""
    lines = []
    for key, template in task.summary:
        value = _float(metrics.get(key))
        if math.isfinite(value):
            lines.append(template.format(value))
    return lines


def format_summary(summary, title='Run summary'):
    """Human-readable lines for the terminal."""
    ep, sim, loop, cmd = (summary['episode'], summary['simulator'], summary['loop_timing'],
                          summary['commands'])
    lines = [title, '-' * len(title)]
    verdict = 'SUCCESS' if ep['success'] else 'FAILED'
    what = get_task(summary['task']).tracking_error or 'as the task defines it'
    lines.append(f'episode        {verdict} after {ep["episode_time_s"]:.1f} s of sim time')
    lines.append(f'tracking error {ep["tracking_error"]:.4g} ({what}); '
                 f'max {ep["max_tracking_error"]:.4g}')
    lines += ep.get('lines', [])
    if loop.get('windows'):
        step = (f'tick p50 {loop.get("tick_time_p50_us", math.nan):.0f} us, p99 '
                f'{loop.get("tick_time_p99_us", math.nan):.0f} us')
        if all(f'tick_{part}_p50_us' in loop for part in TICK_PARTS):
            step += ' (p50 ' + ', '.join(
                f'{TICK_LABELS[part]} {loop[f"tick_{part}_p50_us"]:.0f}' for part in TICK_PARTS) \
                + ' us)'
        if loop.get('clock') == 'sim':
            # Ticks follow /clock: their period is exact in sim time by construction.
            lines.append(f'loop timing    on sim time at {loop.get("control_rate_hz", "?")} Hz '
                         f'(ticks follow /clock), missed ticks '
                         f'{loop.get("missed_ticks_total", 0)}; {step}')
        else:
            lines.append(
                f'loop timing    wall clock at {loop.get("control_rate_hz", "?")} Hz: period '
                f'error p50 {loop.get("period_error_p50_us", math.nan):.0f} us, p99 '
                f'{loop.get("period_error_p99_us", math.nan):.0f} us (worst 1 s window), '
                f'missed ticks {loop.get("missed_ticks_total", 0)}; {step}')
        lines.append(f'controller     {loop.get("model", "?")} ({loop.get("arch", "?")}), '
                     f'watchdog trips {loop.get("watchdog_trips", 0)}, rejected messages '
                     f'{loop.get("rejected_messages", 0)}, safe commands '
                     f'{loop.get("safe_commands", 0)}')
    else:
        lines.append('loop timing    (no controller diagnostics recorded)')
    ok = cmd['non_finite'] == 0 and cmd['out_of_limits'] == 0
    lines.append(f'commands       {cmd["count"]} recorded: {cmd["non_finite"]} non-finite, '
                 f'{cmd["out_of_limits"]} outside the limits -> '
                 f'{"all within limits" if ok else "LIMITS VIOLATED"}')
    if sim:
        lines.append(f'simulator      {sim.get("mode", "?")}, real-time factor '
                     f'{_float(sim.get("real_time_factor")):.2f}, commands rejected '
                     f'{sim.get("commands_rejected", 0)}, command timeouts '
                     f'{sim.get("command_timeouts", 0)}, sensor messages dropped '
                     f'{sim.get("sensor_messages_dropped", 0)}')
    rec = summary['recording']
    total = sum(rec['messages'].values())
    lines.append(f'recording      {total} messages on {len(rec["messages"])} topics'
                 + (f' in {rec["path"]}' if 'path' in rec else ''))
    missing = rec.get('sensor_messages_missing', 0)
    if missing:
        lines.append(f'               INCOMPLETE: {missing} sensor messages the simulator '
                     f'published are not in the bag (the recorder fell behind on a loaded '
                     f'machine; the closed loop was not affected)')
    return '\n'.join(lines)
