"""The conditions of the study: disturbances applied in the ROS-free episode runner
(sim/episode.py), each a sweep whose level 0 is the nominal condition.

Episode i of every cell starts from episode_rng(STUDY_SEED, i): the same start states, and for
equal conditions the same noise, for every controller, so cells can be paired episode by
episode.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from liquid_control.tasks import get_task

STUDY_SEED = 20_240_607     # not the training evaluation's seed: held-out start states
NOMINAL_RATE_HZ = 50.0
DROPOUT_TICKS = 5.0         # mean length of a burst of lost sensor messages (geometric)


@dataclass(frozen=True)
class Condition:
    id: str
    group: str              # the sweep it belongs to (nominal is level 0 of every sweep)
    label: str
    level: float            # x value within its group
    obs_noise: float = 0.0
    dt_jitter: float = 0.0
    rate_hz: float = NOMINAL_RATE_HZ
    action_delay: int = 0
    event_sampling: bool = False
    dropout_probability: float = 0.0
    physics: dict = field(default_factory=dict)

    def episode_kwargs(self):
        return dict(nominal_dt=1.0 / self.rate_hz, obs_noise=self.obs_noise,
                    dt_jitter=self.dt_jitter, action_delay=self.action_delay,
                    event_sampling=self.event_sampling,
                    dropout_probability=self.dropout_probability,
                    dropout_ticks=DROPOUT_TICKS)


def conditions(task):
    out = [Condition('nominal', 'nominal', 'nominal', 0.0)]
    out += [Condition(f'noise_{p}', 'observation noise', f'noise {p}%', p, obs_noise=p / 100)
            for p in (5, 10)]
    out += [Condition(f'jitter_{p}', 'dt jitter', f'jitter ±{p}%', p, dt_jitter=p / 100)
            for p in (25, 50)]
    out += [Condition('event', 'event-driven sampling', 'event-driven (Poisson)', 1.0,
                      event_sampling=True)]
    out += [Condition(f'dropout_{p}', 'sensor dropouts', f'dropouts {p}%', p,
                      dropout_probability=p / 100) for p in (5, 10)]
    out += [Condition(f'rate_{hz}', 'control rate', f'{hz} Hz', hz, rate_hz=float(hz))
            for hz in (25, 100)]
    out += [Condition(f'delay_{k}', 'actuator delay', f'delay {k} tick{"s" * (k > 1)}', k,
                      action_delay=k) for k in (1, 2)]
    for key, change in get_task(task).physics.items():
        for scale in change.study:
            out.append(Condition(f'{key.removesuffix("_scale")}_{scale:g}', change.label,
                                 f'{change.label} ×{scale:g}', scale, physics={key: scale}))
    return out


NOMINAL_LEVEL = {'observation noise': 0.0, 'dt jitter': 0.0, 'event-driven sampling': 0.0,
                 'sensor dropouts': 0.0, 'control rate': NOMINAL_RATE_HZ,
                 'actuator delay': 0.0}


def group_levels(task, group):
    """(level, condition id) of a sweep including its nominal point, sorted by level."""
    points = [(c.level, c.id) for c in conditions(task) if c.group == group]
    points.append((NOMINAL_LEVEL.get(group, 1.0), 'nominal'))
    return sorted(points)
