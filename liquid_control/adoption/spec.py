"""What `liquid-control adopt` needs to know about a policy trained elsewhere: its names,
limits and rate, which of its inputs and outputs are the observation, the action and the
recurrent state, and the scaling its training used. From a small YAML file and/or options.

    obs_names: [slider_to_cart.position, slider_to_cart.velocity, ...]
    action_names: [slider_to_cart.effort]
    action_low: [-30.0]
    action_high: [30.0]
    nominal_dt: 0.02
    arch: lstm                         # any short name (mlp, lstm, gru, ...)
    obs_input: observations            # default: its one non-state input
    action_output: actions             # default: its one non-state output
    state: [[h_in, h_out], [c_in, c_out]]   # recurrent state pairs; none: stateless
    obs_offset: [...]                  # policy input = (obs - obs_offset) * obs_scale
    obs_scale: [...]
    action_scale: [...]                # action = policy output * action_scale + action_offset
    action_offset: [...]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from liquid_control.runtime.contract import ARCH_NAME


class AdoptError(ValueError):
    """A policy or its description cannot be adopted; the message says what and why."""


@dataclass(frozen=True)
class AdoptSpec:
    obs_names: tuple
    action_names: tuple
    action_low: tuple
    action_high: tuple
    nominal_dt: float
    arch: str = 'mlp'
    task: str = 'adopted'
    obs_input: str = ''
    action_output: str = ''
    state: tuple = ()                  # ((input name, output name), ...)
    obs_offset: tuple = ()
    obs_scale: tuple = ()
    action_scale: tuple = ()
    action_offset: tuple = field(default=())

    def __post_init__(self):
        for name in ('obs_names', 'action_names'):
            names = tuple(str(n) for n in (getattr(self, name) or ()))
            if not names or not all(names) or len(set(names)) != len(names):
                raise AdoptError(f'{name} must be distinct non-empty names, got {list(names)}')
            object.__setattr__(self, name, names)
        n_obs, n_act = len(self.obs_names), len(self.action_names)
        for name, size, default in (('action_low', n_act, None), ('action_high', n_act, None),
                                    ('obs_offset', n_obs, 0.0), ('obs_scale', n_obs, 1.0),
                                    ('action_scale', n_act, 1.0),
                                    ('action_offset', n_act, 0.0)):
            object.__setattr__(self, name, _vector(name, getattr(self, name), size, default))
        for name, lo, hi in zip(self.action_names, self.action_low, self.action_high):
            if not lo < hi:
                raise AdoptError(f'action {name!r}: action_low {lo:g} is not below '
                                 f'action_high {hi:g}')
        try:
            dt = float(self.nominal_dt)
        except (TypeError, ValueError):
            dt = math.nan
        if not (dt > 0 and math.isfinite(dt)):
            raise AdoptError(f'nominal_dt must be a control period in seconds > 0, got '
                             f'{self.nominal_dt!r}')
        object.__setattr__(self, 'nominal_dt', dt)
        if not ARCH_NAME.match(str(self.arch)):
            raise AdoptError(f'arch must be a short lower-case name (mlp, lstm, ...), got '
                             f'{self.arch!r}')
        pairs = []
        for pair in self.state or ():
            if isinstance(pair, str):
                pair = pair.split(':')
            if len(pair) != 2 or not all(pair):
                raise AdoptError(f'state pairs are [input, output] names (IN:OUT on the '
                                 f'command line), got {pair!r}')
            pairs.append((str(pair[0]), str(pair[1])))
        object.__setattr__(self, 'state', tuple(pairs))

    @classmethod
    def from_sources(cls, yaml_path=None, **options):
        """From a YAML file, with options (None = not given) taking precedence."""
        values = {}
        if yaml_path:
            values.update(_read_yaml(yaml_path))
        values.update({k: v for k, v in options.items() if v is not None})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise AdoptError(f'unknown key(s) {", ".join(unknown)}; known: '
                             f'{", ".join(sorted(known))}')
        missing = [k for k in ('obs_names', 'action_names', 'action_low', 'action_high',
                               'nominal_dt') if values.get(k) in (None, '', [], ())]
        if missing:
            raise AdoptError(f'missing {", ".join(missing)} (in the YAML or as options)')
        return cls(**values)


def _vector(name, values, size, default):
    if values in (None, (), []):
        if default is None:
            raise AdoptError(f'{name} is missing')
        return (float(default),) * size
    try:
        vector = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise AdoptError(f'{name} must be a list of numbers, got {values!r}') from None
    if len(vector) != size:
        raise AdoptError(f'{name} has {len(vector)} value(s), expected {size} (one per '
                         f'{"observation" if name.startswith("obs") else "action"})')
    if not all(math.isfinite(v) for v in vector):
        raise AdoptError(f'{name} must be finite, got {list(vector)}')
    return vector


def _read_yaml(path):
    import yaml
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise AdoptError(f'{path}: cannot read ({exc.strerror or exc})') from None
    except yaml.YAMLError as exc:
        raise AdoptError(f'{path}: not valid YAML ({str(exc).splitlines()[0]})') from None
    if not isinstance(data, dict):
        raise AdoptError(f'{path}: expected a mapping of keys (obs_names, action_names, ...)')
    return data
