"""Recorded rosbag2 runs -> training sequences, built by the controller node's own code.

The controller's parameters file names the sensor topics, how each becomes observation
values, and the command topic. Messages are replayed in the order they were stored; each
sensor message goes through the node's ObservationSource (the same extraction, checks and
rejections), and each recorded command is paired with the observation the node would have
gathered at that moment (ObservationLayout.gather with the node's sensor_timeout_s). dt is
the measured time between commands: the sampling of the recording is kept as it was.

Time is /clock when the bag holds it (a simulation recorded on sim time), else the receive
time stored with each message (`ros2 bag record`'s default). A recording is cut into
sequences where the node would have restarted its state: no fresh observation (its watchdog),
a pause in the commands longer than sensor_timeout_s, or time going backwards.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from liquid_control.control.actions import command_reader
from liquid_control.control.observations import ObservationLayout, ObservationSource
from liquid_control.control.params import (ConfigError, check_value, parse_sink, parse_sources,
                                           read_params_file)
from liquid_control.interfaces import CLOCK, CLOCK_TYPE, PATH, absolute, stamp_to_ns
from liquid_control.runtime.session import file_sha256

CONTROLLER_NODE = 'liquid_controller'
TIME_BASES = ('auto', 'clock', 'receive')
MIN_SEQUENCE = 10           # commands; shorter sequences teach nothing about dynamics


class BagError(ValueError):
    """A bag (or the set of bags) cannot be trained on; the text names it and says why."""


@dataclass
class Sequence:
    """One uninterrupted stretch of commands: the model's inputs and the recorded labels."""

    bag: str
    start_s: float          # time of the first command, on the bag's time base
    obs: np.ndarray         # [T, n_obs] float32, as the node would have gathered them
    dt: np.ndarray          # [T, 1] float32 seconds since the previous command
    action: np.ndarray      # [T, n_act] float32, the recorded commands

    def __len__(self):
        return len(self.obs)


@dataclass
class BagRecord:
    """What was read from one bag: its identity, contents and what was (not) used."""

    path: str
    files: dict                 # storage file name -> sha256
    duration_s: float
    topics: dict                # topic -> (type, message count)
    time_base: str              # 'clock' or 'receive'
    commands: int = 0           # command messages in the bag
    span_s: float = 0.0         # first to last command, on the time base
    used: int = 0               # commands that became training samples
    skipped: Counter = field(default_factory=Counter)   # reason -> commands
    rejected: dict = field(default_factory=dict)        # topic -> (count, last reason)
    clipped: int = 0            # commands outside action.min/max, clipped to them
    sequences: list = field(default_factory=list)


@dataclass(frozen=True)
class Mapping:
    """The parts of the controller's parameters that training needs."""

    config_file: str
    sources: tuple
    sink: object
    low: np.ndarray
    high: np.ndarray
    sensor_timeout_s: float
    control_period_s: float
    namespace: str = ''

    @property
    def obs_names(self):
        return tuple(f for s in self.sources for f in s.fields)

    @property
    def action_names(self):
        return tuple(self.sink.names)

    def topic(self, name):
        """A configured topic as the bag stores it (absolute, namespace applied)."""
        if name.startswith('/'):
            return name
        ns = self.namespace.strip('/')
        return absolute(f'{ns}/{name}' if ns else name)


def read_mapping(config_file, namespace=''):
    """The observation and command mapping of liquid_controller in a parameters file.

    Unlike the node, the action limits must be set (action.min and action.max): they become
    the model's limits. ConfigError names what is missing or wrong."""
    values = read_params_file(config_file, CONTROLLER_NODE, namespace)
    sources, sink = parse_sources(values), parse_sink(values)
    low, high = sink.limits.min, sink.limits.max
    n = len(sink.names)
    for key, limit in (('action.min', low), ('action.max', high)):
        if limit is None:
            raise ConfigError(f'{config_file}: {key} is not set: the trained model\'s action '
                              'limits come from action.min and action.max')
        if len(limit) != n:
            raise ConfigError(f'{config_file}: {key} has {len(limit)} value(s), action.names '
                              f'has {n}')
    low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
    if not (low < high).all():
        raise ConfigError(f'{config_file}: action.min must be below action.max for every '
                          f'action, got {low.tolist()} and {high.tolist()}')
    rate = check_value('control_rate_hz', values.get('control_rate_hz', 50.0))
    timeout = check_value('sensor_timeout_s', values.get('sensor_timeout_s', 0.2))
    return Mapping(str(config_file), sources, sink, low, high, timeout, 1.0 / rate, namespace)


def storage_files(path):
    """The storage files of a rosbag2 directory (.mcap or .db3), sorted."""
    return sorted(p for p in Path(path).iterdir() if p.suffix in ('.mcap', '.db3'))


class _Replay:
    """The node's view of one bag while its messages are replayed in stored order."""

    def __init__(self, mapping, record):
        self.mapping = mapping
        self.record = record
        self.layout = ObservationLayout(
            [ObservationSource(config, lambda: 0) for config in mapping.sources])
        self.by_topic, self.by_path_topic = {}, {}
        for source in self.layout.sources:
            topic = mapping.topic(source.config.topic)
            source.set_topic_names(topic, mapping.topic(source.config.path_topic)
                                   if source.config.path_topic else '')
            self.by_topic.setdefault(topic, []).append(source)
            if source.config.path_topic:
                self.by_path_topic.setdefault(source.path_topic, []).append(source)
        self.command_topic = mapping.topic(mapping.sink.topic)
        self.read_command = command_reader(mapping.sink.msg_type, mapping.sink.names)
        self.timeout_ns = int(mapping.sensor_timeout_s * 1e9)
        self.obs = np.zeros(len(mapping.obs_names))
        self._rows = []             # (time ns, obs, action) of the open sequence
        self._first = None

    def topics(self):
        return {*self.by_topic, *self.by_path_topic, self.command_topic}

    def message(self, topic, msg, now):
        for source in self.by_path_topic.get(topic, ()):
            source.on_path(msg)
        for source in self.by_topic.get(topic, ()):
            source.on_message(msg, received_ns=now)
        if topic == self.command_topic:
            self.command(msg, now)

    def command(self, msg, now):
        record = self.record
        record.commands += 1
        self._first = now if self._first is None else self._first
        record.span_s = max(record.span_s, (now - self._first) / 1e9)
        stale = self.layout.gather(now, self.timeout_ns, self.obs)
        if stale:
            record.skipped['no fresh observation (the node would publish its safe command)'] += 1
            self.close()
            return
        try:
            action = self.read_command(msg)
        except ValueError as exc:
            record.skipped[f'unreadable command ({exc})'] += 1
            return
        if not np.isfinite(action).all():
            record.skipped['non-finite command'] += 1
            return
        clipped = np.clip(action, self.mapping.low, self.mapping.high)
        record.clipped += int((clipped != action).any())
        row = (now, self.obs.copy(), clipped)
        if self._rows:
            last = self._rows[-1][0]
            if now == last:
                # Two commands at one time: on /clock, the earlier was stored after the next
                # clock tick (the recorder's order, not the controller's); the later one
                # answers the observation it is paired with.
                record.skipped['earlier of two commands at the same time'] += 1
                self._rows[-1] = row
                return
            if now < last or now - last > self.timeout_ns:
                self.close()
        self._rows.append(row)

    def close(self):
        """End the open sequence (kept when long enough to learn from)."""
        rows, self._rows = self._rows, []
        if len(rows) < MIN_SEQUENCE:
            if rows:
                self.record.skipped[f'in sequences shorter than {MIN_SEQUENCE} commands'] += \
                    len(rows)
            return
        times = np.array([r[0] for r in rows], dtype=np.float64)
        dt = np.diff(times, prepend=times[0] - self.mapping.control_period_s * 1e9) / 1e9
        self.record.sequences.append(Sequence(
            bag=self.record.path, start_s=times[0] / 1e9,
            obs=np.array([r[1] for r in rows], np.float32),
            dt=dt.astype(np.float32)[:, None],
            action=np.array([r[2] for r in rows], np.float32)))
        self.record.used += len(rows)


def _describe(topics):
    return ', '.join(f'{t} ({kind})' for t, (kind, _) in sorted(topics.items())) or 'no topics'


def _check_topics(path, replay, mapping, topics):
    """BagError unless every configured topic is in the bag with the configured type."""
    wanted = {replay.command_topic: (mapping.sink.msg_type, 'action.topic')}
    for source in replay.layout.sources:
        c = source.config
        wanted[source.topic] = (c.msg_type, f'observations.{c.name}.topic')
        if c.path_topic:
            wanted[source.path_topic] = (PATH, f'observations.{c.name}.path_topic')
    for topic, (kind, param) in wanted.items():
        if topic not in topics:
            raise BagError(f'{path}: no topic {topic} ({param} in {mapping.config_file}); the '
                           f'bag has {_describe(topics)}')
        stored, count = topics[topic]
        if stored != kind:
            raise BagError(f'{path}: {topic} is {stored} in the bag, {mapping.config_file} '
                           f'says {kind}')
        if count == 0:
            raise BagError(f'{path}: {topic} has no messages')


def read_recording(path, mapping, time_base='auto'):
    """Replay one bag through the node's observation code; return its BagRecord.

    BagError (one line, naming the bag) for a bag that cannot be read, lacks a configured
    topic or holds it with another type, or from which no training sample comes."""
    from rosbags.rosbag2 import Reader

    from liquid_control.recording.bag import typestore
    if time_base not in TIME_BASES:
        raise ValueError(f'time_base must be one of {TIME_BASES}, got {time_base!r}')
    path = Path(path)
    if path.is_file() and (path.suffix in ('.mcap', '.db3') or path.name == 'metadata.yaml'):
        path = path.parent           # a file of the bag: the bag is its directory
    if not path.is_dir():
        raise BagError(f'{path}: no such bag (a rosbag2 directory with metadata.yaml)')
    if not (path / 'metadata.yaml').is_file():
        raise BagError(f'{path}: no metadata.yaml, so not a finished rosbag2 bag (a recording '
                       'that was killed can be repaired with `ros2 bag reindex`)')
    store = typestore()
    try:
        with Reader(path) as reader:
            topics = {t: (info.msgtype, info.msgcount) for t, info in reader.topics.items()}
            duration = reader.duration / 1e9 if reader.message_count else 0.0
            expected = reader.message_count
            clock = time_base == 'clock' or (
                time_base == 'auto' and topics.get(CLOCK, (None, 0))[0] == CLOCK_TYPE
                and topics[CLOCK][1] > 0)
            if clock and topics.get(CLOCK, (None, 0))[1] == 0:
                raise BagError(f'{path}: time base clock asked for, but the bag has no {CLOCK} '
                               'messages')
            record = BagRecord(path=str(path), files={}, duration_s=duration, topics=topics,
                               time_base='clock' if clock else 'receive')
            replay = _Replay(mapping, record)
            _check_topics(path, replay, mapping, topics)
            wanted = replay.topics() | ({CLOCK} if clock else set())
            connections = [c for c in reader.connections if c.topic in wanted]
            read = 0
            now = None
            for conn, timestamp, data in reader.messages(connections=connections):
                read += 1
                msg = store.deserialize_cdr(data, conn.msgtype)
                if conn.topic == CLOCK and clock:
                    now = stamp_to_ns(msg.clock)
                    if conn.topic not in replay.by_topic:
                        continue
                if not clock:
                    now = timestamp
                if now is None:
                    if conn.topic == replay.command_topic:
                        record.commands += 1
                        record.skipped[f'before the first {CLOCK}'] += 1
                    continue
                replay.message(conn.topic, msg, now)
            replay.close()
    except BagError:
        raise
    except Exception as exc:  # rosbags raises many types for damaged files
        raise BagError(f'{path}: cannot read the bag ({type(exc).__name__}: {exc}); it may be '
                       'truncated or corrupt') from None
    wanted_count = sum(topics[c][1] for c in wanted if c in topics)
    if read < wanted_count or (expected and read > expected):
        raise BagError(f'{path}: read {read} of the {wanted_count} messages metadata.yaml '
                       'lists for these topics: the bag is truncated')
    record.files = {p.name: file_sha256(p) for p in storage_files(path)}
    for source in replay.layout.sources:
        why = source.last_rejection.removeprefix(f'{source.topic}: ')
        if source.rejected:
            record.rejected[source.topic] = (source.rejected, why)
        if source.received == 0:
            why = why or f'no usable message on {source.topic}'
            raise BagError(f'{path}: observation source {source.name} got no usable message '
                           f'from {source.topic}: {why}')
    if record.used == 0:
        reasons = '; '.join(f'{n} {why}' for why, n in record.skipped.most_common()) or \
            'no commands'
        raise BagError(f'{path}: none of its {record.commands} commands on '
                       f'{replay.command_topic} can be trained on: {reasons}')
    return record
