"""The action sink: model actions -> the command that is published, within limits.

`ActionLimits` resolves the configured limits against the model (unset limits come from the
model's action_low/high) and checks them with the safe command. `ActionSink.command` is the
last gate before publishing: a non-finite action becomes the safe command, every value is
clipped to [min, max], moved at most rate_limit * dt from the previous command, and set to 0
within its deadband (0 must then lie within the limits). Whatever arrives, the command it
returns is finite and within the limits.

`message_builder` fills std_msgs/Float64MultiArray or geometry_msgs/Twist(Stamped) from a
command; it takes the message class as an argument, so this module imports no ROS code.
"""
from __future__ import annotations

import math

import numpy as np

from liquid_control.interfaces import FLOAT64_ARRAY, TWIST, TWIST_STAMPED

from .params import ConfigError, mismatch_message


class ActionLimits:
    """Per-action min, max, rate limit (per second; inf = none), deadband (0 = none) and the
    safe command."""

    def __init__(self, names, low, high, rate_limit=None, safe=None, deadband=None):
        n = len(names)
        self.names = tuple(names)
        self.low = self._vector('action.min', low, n)
        self.high = self._vector('action.max', high, n)
        rate = self._vector('action.rate_limit', rate_limit if rate_limit else [0.0] * n, n)
        if (rate < 0).any():
            raise ConfigError(f'action.rate_limit must be >= 0 (0 = no limit), got '
                              f'{rate.tolist()}')
        self.rate = np.where(rate > 0, rate, np.inf)
        self.safe = self._vector('action.safe', safe if safe else [0.0] * n, n)
        self.deadband = self._vector('action.deadband', deadband if deadband else [0.0] * n, n)
        if (self.deadband < 0).any():
            raise ConfigError(f'action.deadband must be >= 0 (0 = none), got '
                              f'{self.deadband.tolist()}')
        for name, lo, hi, s, band in zip(self.names, self.low, self.high, self.safe,
                                         self.deadband):
            if not lo < hi:
                raise ConfigError(f'action {name!r}: min {lo:g} is not below max {hi:g}')
            if not lo <= s <= hi:
                what = ('the default safe command 0' if not safe
                        else f'safe command {s:g}')
                raise ConfigError(f'action {name!r}: {what} is outside [{lo:g}, {hi:g}]; '
                                  'set action.safe within the limits')
            if band > 0 and not lo <= 0.0 <= hi:
                raise ConfigError(f'action {name!r}: a deadband publishes 0, which is outside '
                                  f'[{lo:g}, {hi:g}]; set action.deadband to 0 for it')

    @staticmethod
    def _vector(param, values, n):
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.size != n:
            raise ConfigError(f'{param} has {values.size} value(s), there are {n} actions')
        if not np.isfinite(values).all():
            raise ConfigError(f'{param} must be finite, got {values.tolist()}')
        return values

    @classmethod
    def resolve(cls, sink_names, limits_config, metadata, model_path):
        """Limits for a model: checks its action_names against the sink's names first."""
        if tuple(metadata.action_names) != tuple(sink_names):
            raise ConfigError(mismatch_message('action', sink_names, metadata.action_names,
                                               model_path))
        lc = limits_config
        return cls(sink_names,
                   lc.min if lc.min is not None else metadata.action_low,
                   lc.max if lc.max is not None else metadata.action_high,
                   lc.rate_limit, lc.safe, lc.deadband)


class ActionSink:
    """Turns actions into commands within `limits`, remembering the last command sent.

    Works on Python floats: for the handful of actions a controller has, that is several
    times faster than numpy's per-call overhead (this runs every tick).
    """

    def __init__(self, limits, previous=None):
        self.limits = limits
        self._low = limits.low.tolist()
        self._high = limits.high.tolist()
        self._rate = limits.rate.tolist()
        self._limited = [math.isfinite(r) for r in self._rate]
        self._safe = limits.safe.tolist()
        self._deadband = limits.deadband.tolist()
        self._banded = any(band > 0 for band in self._deadband)
        last = self._safe
        if previous is not None and np.shape(previous) == limits.safe.shape:
            # Continue from what was last published (rate limits stay continuous across a
            # swap), clipped into the new limits.
            last = [min(max(float(v), lo), hi)
                    for v, lo, hi in zip(np.asarray(previous).ravel(), self._low, self._high)]
        self._last = list(last)
        self.non_finite = 0

    @property
    def last(self):
        """The last command returned, as an array."""
        return np.array(self._last)

    def command(self, action, dt):
        """The command for one model action, shape (n,), finite and within the limits."""
        try:
            values = [float(v) for v in np.asarray(action).ravel()]
        except (TypeError, ValueError):
            values = []
        if len(values) != len(self._last) or not all(math.isfinite(v) for v in values):
            self.non_finite += 1
            return self.safe_command()
        rate_ok = dt > 0 and math.isfinite(dt)
        last = self._last
        command = []
        for i, v in enumerate(values):
            lo, hi = self._low[i], self._high[i]
            if rate_ok and self._limited[i]:
                step = self._rate[i] * dt
                lo, hi = max(lo, last[i] - step), min(hi, last[i] + step)
            command.append(min(max(v, lo), hi))
        if self._banded:
            command = [0.0 if abs(v) < band else v for v, band in zip(command, self._deadband)]
        self._last = command
        return np.array(command)

    def safe_command(self):
        """The safe command (not rate limited); it becomes the last command."""
        self._last = list(self._safe)
        return np.array(self._safe)


def message_builder(msg_type, names, msg_class, stamp=None):
    """A function command -> message of `msg_class` for `msg_type`.

    Float64MultiArray: data in the order of `names`. Twist/TwistStamped: each name is a
    field (linear.x, angular.z, ...); fields not named are 0. TwistStamped needs
    `stamp`, a function returning the header stamp. The builder fills and returns one
    message object each call (publishing copies it), so it must not be shared by threads
    that build at the same time.
    """
    msg = msg_class()
    if msg_type == FLOAT64_ARRAY:
        def build(command):
            msg.data = [float(v) for v in command]
            return msg
        return build
    if msg_type in (TWIST, TWIST_STAMPED):
        slots = [tuple(name.split('.')) for name in names]
        twist = msg if msg_type == TWIST else msg.twist
        targets = [getattr(twist, part) for part, _ in slots]
        axes = [axis for _, axis in slots]

        def build(command):
            for target, axis, value in zip(targets, axes, command):
                setattr(target, axis, float(value))
            if stamp is not None and msg_type == TWIST_STAMPED:
                msg.header.stamp = stamp()
            return msg
        return build
    raise ConfigError(f'unsupported command message type {msg_type!r}')


def command_reader(msg_type, names):
    """The inverse of `message_builder`: a function message -> command (float64 array in the
    order of `names`), for reading recorded commands. Raises ValueError for a
    Float64MultiArray whose length is not len(names)."""
    n = len(names)
    if msg_type == FLOAT64_ARRAY:
        def read(msg):
            if len(msg.data) != n:
                raise ValueError(f'{len(msg.data)} value(s) in data, {n} action(s) configured')
            return np.asarray(msg.data, dtype=np.float64)
        return read
    if msg_type in (TWIST, TWIST_STAMPED):
        slots = [tuple(name.split('.')) for name in names]

        def read(msg):
            twist = msg if msg_type == TWIST else msg.twist
            return np.array([getattr(getattr(twist, part), axis) for part, axis in slots],
                            dtype=np.float64)
        return read
    raise ConfigError(f'unsupported command message type {msg_type!r}')
