"""Diagnostics assembly: the node's state -> one status (level, message, key/values).

ROS-free; the node turns the report into a diagnostic_msgs/DiagnosticStatus and publishes it
on /diagnostics once a second. Levels: ERROR while the watchdog is tripped on an active node
(the safe command is going out), or when configuration failed; WARN for missed ticks,
rejected messages or rejected steps in the last window; OK otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .loop import TICK_PARTS

OK, WARN, ERROR = 0, 1, 2
STATUS_NAME = 'control loop'   # the node prefixes its own name


@dataclass
class DiagnosticReport:
    level: int
    message: str
    values: list = field(default_factory=list)    # [(key, str)]
    hardware_id: str = ''


def _fmt(value):
    if isinstance(value, float):
        return f'{value:.1f}'
    return str(value)


def controller_report(s):
    """Build the report from a snapshot dict (keys as the node fills them; see node)."""
    values = [('lifecycle_state', s['lifecycle_state'])]
    if s.get('configure_error'):
        values.append(('configure_error', s['configure_error']))
    if s.get('model_name'):
        values += [('model', s['model_name']), ('model_path', s['model_path']),
                   ('model_sha256', s['model_sha256']), ('arch', s['arch'])]
    values += [('control_rate_hz', _fmt(s['control_rate_hz'])), ('clock', s['clock']),
               ('dt_source', s['dt_source']), ('trigger', s.get('trigger', 'timer')),
               ('loop_scheduling', s.get('scheduling', '')),
               ('busy_wait_us_now', _fmt(float(s.get('busy_wait_us_now', 0.0))))]
    window = s.get('window') or {}
    for key in ('period_error_p50_us', 'period_error_p99_us', 'period_error_max_us',
                'tick_time_p50_us', 'tick_time_p99_us', 'tick_time_max_us',
                *(f'tick_{part}_p50_us' for part in TICK_PARTS)):
        if key in window:
            values.append((key, _fmt(window[key])))
    values += [
        ('ticks_in_window', _fmt(window.get('ticks', 0))),
        ('missed_ticks_in_window', _fmt(window.get('missed', 0))),
        ('missed_ticks_total', _fmt(s['missed_total'])),
        ('watchdog', 'tripped' if s['watchdog_tripped'] else 'ok'),
        ('watchdog_trips', _fmt(s['watchdog_trips'])),
        ('messages_received', _fmt(s['received'])),
        ('rejected_messages', _fmt(s['rejected_messages'])),
        ('rejected_steps', _fmt(s['rejected_steps'])),
        ('safe_commands', _fmt(s['safe_commands'])),
        ('commands_published', _fmt(s['commands_published'])),
        ('swaps', _fmt(s['swaps'])),
    ]
    if s.get('watchdog_reason'):
        values.append(('watchdog_reason', s['watchdog_reason']))
    if s.get('last_rejection'):
        values.append(('last_rejection', s['last_rejection']))
    if s.get('last_swap_error'):
        values.append(('last_swap_error', s['last_swap_error']))

    state = s['lifecycle_state']
    if s.get('configure_error'):
        level, message = ERROR, f'configure failed: {s["configure_error"].splitlines()[0]}'
    elif state != 'active':
        level, message = OK, f'{state}: not controlling'
    elif s['watchdog_tripped']:
        level = ERROR
        message = f'watchdog: {s.get("watchdog_reason") or "no fresh sensor data"}; ' \
                  'publishing the safe command'
    else:
        problems = []
        if window.get('missed', 0):
            problems.append(f'{window["missed"]} missed tick(s)')
        if s.get('rejected_messages_in_window'):
            problems.append(f'{s["rejected_messages_in_window"]} rejected message(s)')
        if s.get('rejected_steps_in_window'):
            problems.append(f'{s["rejected_steps_in_window"]} rejected step(s)')
        if problems:
            level, message = WARN, ', '.join(problems) + ' in the last window'
        else:
            level, message = OK, f'controlling with {s.get("model_name", "?")}'
    return DiagnosticReport(level, message, values, hardware_id=s.get('model_name', ''))
