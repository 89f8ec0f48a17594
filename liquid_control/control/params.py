"""The controller node's parameters: one table of names, types, defaults and descriptions, and
the parser that turns their values into a checked ControllerConfig.

ROS-free: the node declares ROS parameters from PARAMETERS (and the per-source entries of
`source_parameters`), reads their values into a dict and calls `parse_config`. docs/node.md
documents the same table. Values of None mean "not set" (the parameter's documented fallback).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from liquid_control.interfaces import (EFFORT_COMMANDS, FLOAT64_ARRAY, IMU, JOINT_STATE,
                                       JOINT_STATES, ODOMETRY, TWIST, TWIST_FIELDS, TWIST_STAMPED,
                                       canonical_type)

SOURCE_TYPES = (JOINT_STATE, IMU, ODOMETRY, FLOAT64_ARRAY)
SINK_TYPES = (FLOAT64_ARRAY, TWIST, TWIST_STAMPED)
QOS_PROFILES = ('sensor_data', 'reliable', 'best_effort', 'latched')
DT_SOURCES = ('measured', 'nominal')
TRIGGERS = ('timer', 'sensor')

MAX_RATE_HZ = 2000.0


class ConfigError(ValueError):
    """A parameter value (or a combination of them) the node cannot run with."""


@dataclass(frozen=True)
class ParamSpec:
    """One ROS parameter: name, kind, default (None = not set), and its documentation.

    kind is one of bool, int, double, string, string_array, double_array. read_only
    parameters shape the node's topics and subscriptions: they are set at start-up (params
    file, --ros-args, launch) and cannot change while the node runs.
    """

    name: str
    kind: str
    default: object
    description: str
    read_only: bool = False
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    @property
    def constraints(self):
        """Human-readable constraints (descriptor additional_constraints and docs)."""
        parts = []
        if self.choices:
            parts.append('one of ' + ', '.join(self.choices))
        if self.low is not None and self.high is not None:
            parts.append(f'{self.low:g} to {self.high:g}')
        elif self.low is not None:
            parts.append(f'>= {self.low:g}')
        return '; '.join(parts)


PARAMETERS = (
    ParamSpec('model', 'string', '',
              'ONNX controller: a file path, or a name looked up in '
              'share/liquid_control/models (e.g. cartpole_gru) and the model folders task '
              'packages register. Setting it while the node runs loads and validates the new '
              'model off the control path and swaps it in between two ticks with a fresh '
              'state; a model that fails keeps the running one.'),
    ParamSpec('model_sha256', 'string', '',
              'Integrity pin: the sha256 (64 hex digits) the model file must have, checked '
              'before the file is parsed, at configure and at every swap; empty = no pin. A '
              'pin names one file: to swap to another pinned model set model and model_sha256 '
              'in one call (set_parameters_atomically, or ros2 param load). '
              'See docs/reliability.md.'),
    ParamSpec('require_sha256', 'bool', False,
              'Refuse a model that has no recorded sha256: its model card <name>.md (the '
              '"file sha256" line) or a sha256sum sidecar <name>.onnx.sha256 next to it. A '
              'recorded sha256 is checked whenever it exists, required or not.',
              read_only=True),
    ParamSpec('control_rate_hz', 'double', 50.0,
              'Control loop rate, ticks per second (of sim time when use_sim_time is true).',
              low=1.0, high=MAX_RATE_HZ),
    ParamSpec('sensor_timeout_s', 'double', 0.2,
              'Watchdog: when any observation source has had no valid message for this long, '
              'the node publishes the safe command every tick and reports ERROR; control '
              'resumes with a reset state when data returns.', low=0.001, high=3600.0),
    ParamSpec('autostart', 'bool', True,
              'Walk the lifecycle to active at start-up (configure, then activate), so '
              '`ros2 run` just works. False leaves it unconfigured for a lifecycle manager.',
              read_only=True),
    ParamSpec('trigger', 'string', 'timer',
              'What starts a tick: timer (every 1/control_rate_hz, the loop below) or sensor '
              '(each message of the first observation source; dt is the time between the '
              'stamps of the messages that ticked, or their receipt times when a message has '
              'no stamp). With sensor, control_rate_hz is the rate the sensor is expected at: '
              'the first dt, and how often the watchdog looks while the sensor is silent '
              '(it publishes the safe command then, as with the timer).',
              choices=TRIGGERS, read_only=True),
    ParamSpec('max_rate_hz', 'double', 1000.0,
              'trigger sensor only: at most this many ticks per second of message time; a '
              'message that comes sooner (a burst) updates the observation without a tick.',
              low=1.0, high=MAX_RATE_HZ, read_only=True),
    ParamSpec('dt_source', 'string', 'measured',
              'dt fed to the controller each tick: the measured time since the previous tick, '
              'or the nominal period 1/control_rate_hz.', choices=DT_SOURCES),
    ParamSpec('busy_wait_us', 'int', 500,
              'Wall-clock loop only: the loop thread sleeps until this long before each '
              'deadline, then spins to it (at most half a period). Larger holds the period '
              'tighter at the cost of CPU (about busy_wait_us * control_rate_hz of one core). '
              'With busy_wait_adaptive, the margin to start from.',
              low=0, high=100000),
    ParamSpec('busy_wait_adaptive', 'bool', True,
              'Wall-clock loop only: size the margin from measurement instead: 1.25 times a '
              'running 99th percentile of the time from waking to ready (wake-up lateness and '
              'taking the sensor messages), up to half a period; longer on a loaded machine '
              'or a VM, shorter (less CPU) where wake-ups are prompt.'),
    ParamSpec('thread_priority', 'int', 50,
              'Wall-clock loop only: SCHED_FIFO priority of the loop thread (as ros2_control\'s '
              'controller manager), 0 = normal scheduling. Where real-time scheduling is not '
              'permitted the loop runs normally and diagnostics say so. Read at activation.',
              low=0, high=99),
    ParamSpec('observations.sources', 'string_array', ['joint_states'],
              'Names of the observation sources, in the order their fields form the '
              'observation vector; each has the observations.<name>.* parameters below.',
              read_only=True),
    ParamSpec('action.topic', 'string', EFFORT_COMMANDS,
              'Topic the command is published on.', read_only=True),
    ParamSpec('action.type', 'string', FLOAT64_ARRAY,
              'Command message type: std_msgs/msg/Float64MultiArray (ros2_control forward '
              'and effort controllers), geometry_msgs/msg/Twist or TwistStamped (cmd_vel).',
              read_only=True, choices=SINK_TYPES),
    ParamSpec('action.names', 'string_array', None,
              "Action names in the order of the message: must equal the model's action_names. "
              'For Twist: fields among linear.x, linear.y, linear.z, angular.x, angular.y, '
              'angular.z (the others are published as 0).', read_only=True),
    ParamSpec('action.min', 'double_array', None,
              "Lower limit per action. Not set: the model's action_low."),
    ParamSpec('action.max', 'double_array', None,
              "Upper limit per action. Not set: the model's action_high."),
    ParamSpec('action.rate_limit', 'double_array', None,
              'Largest change per second per action (0 = no limit). Not set: no limits. The '
              'safe command is never rate limited.'),
    ParamSpec('action.safe', 'double_array', None,
              'The safe command, published on deactivate, cleanup, shutdown, on a signal, '
              'while the watchdog is tripped and when a step is rejected. Not set: zeros. '
              'Must lie within the limits.'),
    ParamSpec('action.deadband', 'double_array', None,
              'Per action: a command closer to 0 than this is published as 0, so a model '
              'that settles near zero does not creep (as a motor deadband; applied after the '
              'limits). 0 = none. Not set: none. Needs 0 within the limits.'),
    ParamSpec('action.qos', 'string', 'reliable',
              'QoS of the command publisher (reliable matches every subscriber).',
              read_only=True, choices=QOS_PROFILES),
)


def source_parameters(source):
    """The ParamSpecs of one observation source (observations.<source>.*)."""
    p = f'observations.{source}.'
    joints = source == JOINT_STATES   # the default source: /joint_states
    return (
        ParamSpec(p + 'topic', 'string', JOINT_STATES if joints else None,
                  'Topic of this source.', read_only=True),
        ParamSpec(p + 'type', 'string', JOINT_STATE if joints else None,
                  'Message type: sensor_msgs/msg/JointState, sensor_msgs/msg/Imu, '
                  'nav_msgs/msg/Odometry or std_msgs/msg/Float64MultiArray.',
                  read_only=True, choices=SOURCE_TYPES),
        ParamSpec(p + 'fields', 'string_array', None,
                  'Observation names this source provides, in order (they name the values in '
                  "the model's obs_names).", read_only=True),
        ParamSpec(p + 'select', 'string_array', None,
                  'What to read from the message for each field, when it differs from the '
                  'field name: e.g. cart_joint.position for a JointState, '
                  'twist.linear.x or yaw for Odometry, data.2 for Float64MultiArray. '
                  'Not set: the field names themselves.', read_only=True),
        ParamSpec(p + 'qos', 'string', 'sensor_data',
                  'Subscription QoS: sensor_data or best_effort (best effort; also receives '
                  'from reliable publishers) or reliable.', read_only=True, choices=QOS_PROFILES),
        ParamSpec(p + 'path_topic', 'string', None,
                  'Odometry sources only: a nav_msgs/msg/Path topic (e.g. /plan); the '
                  'path-relative fields (cross_track_error, heading_error, ...) are computed '
                  'from the odometry pose against it.', read_only=True),
        ParamSpec(p + 'path_qos', 'string', 'reliable',
                  'QoS of the path subscription: reliable (volatile, matches every reliable '
                  'publisher) or latched (transient local: also gets the last path published '
                  'before the node started, but only from a transient-local publisher).',
                  read_only=True, choices=QOS_PROFILES),
    )


SPECS = {spec.name: spec for spec in PARAMETERS}
LIVE_PARAMETERS = tuple(spec.name for spec in PARAMETERS if not spec.read_only)


@dataclass(frozen=True)
class SourceConfig:
    name: str
    topic: str
    msg_type: str
    fields: tuple
    select: tuple
    qos: str = 'sensor_data'
    path_topic: str = ''
    path_qos: str = 'reliable'


@dataclass(frozen=True)
class LimitsConfig:
    """The live-settable part of the action sink; None = take from the model / default."""

    min: tuple | None = None
    max: tuple | None = None
    rate_limit: tuple | None = None
    safe: tuple | None = None
    deadband: tuple | None = None


@dataclass(frozen=True)
class SinkConfig:
    topic: str
    msg_type: str
    names: tuple
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    qos: str = 'reliable'


@dataclass(frozen=True)
class ControllerConfig:
    model: str
    control_rate_hz: float
    sensor_timeout_s: float
    autostart: bool
    dt_source: str
    busy_wait_us: int
    sources: tuple
    sink: SinkConfig
    thread_priority: int = 0
    model_sha256: str = ''
    require_sha256: bool = False
    busy_wait_adaptive: bool = True
    trigger: str = 'timer'
    max_rate_hz: float = 1000.0

    @property
    def period_s(self):
        return 1.0 / self.control_rate_hz

    @property
    def obs_names(self):
        """The observation vector the mapping produces, in order."""
        return tuple(name for source in self.sources for name in source.fields)


# -- value checks, each raising ConfigError naming the parameter -----------------------------

def check_value(name, value):
    """Check one parameter value against its spec; return it normalised (None stays None)."""
    spec = SPECS.get(name) or _source_spec(name)
    if spec is None:
        raise ConfigError(f'unknown parameter {name!r}')
    if value is None:
        return None
    kind = spec.kind
    if kind == 'bool':
        if not isinstance(value, bool):
            raise ConfigError(f'{name} must be true or false, got {value!r}')
        return value
    if kind in ('int', 'double'):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f'{name} must be a number, got {value!r}')
        if kind == 'int' and not float(value).is_integer():
            raise ConfigError(f'{name} must be an integer, got {value!r}')
        value = int(value) if kind == 'int' else float(value)
        if not math.isfinite(value):
            raise ConfigError(f'{name} must be finite, got {value!r}')
        too_low = spec.low is not None and value < spec.low
        if too_low or spec.high is not None and value > spec.high:
            raise ConfigError(f'{name} must be {spec.constraints}, got {value:g}')
        return value
    if kind == 'string':
        if not isinstance(value, str):
            raise ConfigError(f'{name} must be a string, got {value!r}')
        value = value.strip()
        if name.endswith('.type') or name == 'action.type':
            value = canonical_type(value)
        if spec.choices and value not in spec.choices:
            raise ConfigError(f'{name} must be {spec.constraints}, got {value!r}')
        return value
    if kind.endswith('_array') and (isinstance(value, (str, bytes))
                                    or not hasattr(value, '__len__')):
        what = 'strings' if kind == 'string_array' else 'numbers'
        raise ConfigError(f'{name} must be a list of {what}, got {value!r}')
    if kind == 'string_array':
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f'{name} must be a list of strings, got {value!r}')
        value = tuple(v.strip() for v in value)
        if not all(value):
            raise ConfigError(f'{name} has an empty entry: {list(value)}')
        return value
    if kind == 'double_array':
        if isinstance(value, (str, bytes)) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise ConfigError(f'{name} must be a list of numbers, got {value!r}')
        value = tuple(float(v) for v in value)
        if not all(math.isfinite(v) for v in value):
            raise ConfigError(f'{name} must hold finite numbers, got {list(value)}')
        return value
    raise AssertionError(kind)


def _source_spec(name):
    parts = name.split('.')
    if len(parts) == 3 and parts[0] == 'observations':
        for spec in source_parameters(parts[1]):
            if spec.name == name:
                return spec
    return None


def spec_for(name):
    """The ParamSpec of a global or per-source parameter name, or None."""
    return SPECS.get(name) or _source_spec(name)


def _get(values, name):
    spec = spec_for(name)
    value = values.get(name, spec.default)
    return check_value(name, value)


def parse_sources(values):
    names = _get(values, 'observations.sources')
    if not names:
        raise ConfigError('observations.sources is empty: the node needs at least one source')
    if len(set(names)) != len(names):
        raise ConfigError(f'observations.sources repeats a name: {list(names)}')
    sources = []
    for name in names:
        if not name.replace('_', '').isalnum():
            raise ConfigError(f'observations.sources: {name!r} is not a valid parameter name '
                              '(letters, digits and _ only)')
        p = f'observations.{name}.'
        topic = _get(values, p + 'topic')
        msg_type = _get(values, p + 'type')
        fields = _get(values, p + 'fields')
        if not topic:
            raise ConfigError(f'{p}topic is not set')
        if not msg_type:
            raise ConfigError(f'{p}type is not set (one of {", ".join(SOURCE_TYPES)})')
        if not fields:
            raise ConfigError(f'{p}fields is not set: list the observation names this source '
                              'provides')
        select = _get(values, p + 'select') or fields
        if len(select) != len(fields):
            raise ConfigError(f'{p}select has {len(select)} entries, {p}fields has '
                              f'{len(fields)}: give one selector per field')
        path_topic = _get(values, p + 'path_topic') or ''
        if path_topic and msg_type != ODOMETRY:
            raise ConfigError(f'{p}path_topic is only for {ODOMETRY} sources, this one is '
                              f'{msg_type}')
        sources.append(SourceConfig(
            name=name, topic=topic, msg_type=msg_type, fields=fields, select=select,
            qos=_get(values, p + 'qos'), path_topic=path_topic,
            path_qos=_get(values, p + 'path_qos')))
    all_fields = [f for s in sources for f in s.fields]
    repeated = sorted({f for f in all_fields if all_fields.count(f) > 1})
    if repeated:
        raise ConfigError(f'observation fields provided twice: {", ".join(repeated)}')
    return tuple(sources)


def parse_limits(values):
    return LimitsConfig(**{key: _get(values, f'action.{key}')
                           for key in ('min', 'max', 'rate_limit', 'safe', 'deadband')})


def parse_sink(values):
    names = _get(values, 'action.names')
    if not names:
        raise ConfigError('action.names is not set: list the action names the model produces')
    if len(set(names)) != len(names):
        raise ConfigError(f'action.names repeats a name: {list(names)}')
    msg_type = _get(values, 'action.type')
    if msg_type in (TWIST, TWIST_STAMPED):
        unknown = [n for n in names if n not in TWIST_FIELDS]
        if unknown:
            raise ConfigError(f'action.names {unknown} are not Twist fields; use '
                              f'{", ".join(TWIST_FIELDS)}')
    topic = _get(values, 'action.topic')
    if not topic:
        raise ConfigError('action.topic is not set')
    return SinkConfig(topic=topic, msg_type=msg_type, names=names, limits=parse_limits(values),
                      qos=_get(values, 'action.qos'))


def parse_config(values):
    """A dict of parameter values (missing or None = default) -> ControllerConfig.

    Raises ConfigError naming the first parameter that is wrong.
    """
    model = _get(values, 'model')
    if not model:
        raise ConfigError('model is not set: give a model name (e.g. cartpole_cfc) or a path, '
                          'with the observation mapping in a parameters file (e.g. '
                          'config/cartpole.yaml)')
    model_sha256 = (_get(values, 'model_sha256') or '').lower()
    if model_sha256 and (len(model_sha256) != 64
                         or any(c not in '0123456789abcdef' for c in model_sha256)):
        raise ConfigError(f'model_sha256 must be 64 hex digits (or empty), got '
                          f'{values.get("model_sha256")!r}')
    return ControllerConfig(
        model=model,
        control_rate_hz=_get(values, 'control_rate_hz'),
        sensor_timeout_s=_get(values, 'sensor_timeout_s'),
        autostart=_get(values, 'autostart'),
        dt_source=_get(values, 'dt_source'),
        busy_wait_us=_get(values, 'busy_wait_us'),
        thread_priority=_get(values, 'thread_priority'),
        model_sha256=model_sha256,
        require_sha256=_get(values, 'require_sha256'),
        busy_wait_adaptive=_get(values, 'busy_wait_adaptive'),
        trigger=_get(values, 'trigger'),
        max_rate_hz=_get(values, 'max_rate_hz'),
        sources=parse_sources(values),
        sink=parse_sink(values),
    )


def check_known(given, known):
    """ConfigError naming each given parameter the node does not have, with the closest
    known name: a misspelled key in a parameters file would otherwise be ignored, and a limit
    or a topic silently take its default."""
    import difflib
    known = sorted(known)
    unknown = sorted(n for n in given if n not in known and not n.startswith('qos_overrides.'))
    if not unknown:
        return
    listed = {n.split('.')[1] for n in known if n.startswith('observations.') and
              n.count('.') == 2}
    parts = []
    for name in unknown:
        source = name.split('.')[1] if name.startswith('observations.') and \
            name.count('.') == 2 else ''
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if source and source not in listed:
            hint = f' (source {source!r} is not in observations.sources)'
        else:
            hint = f' (did you mean {close[0]}?)' if close else ''
        parts.append(name + hint)
    raise ConfigError(f'unknown parameter(s): {"; ".join(parts)}')


def mismatch_message(what, mapping_names, model_names, model_path):
    """The configure error for names that differ: both lists, then what differs."""
    mapping_names, model_names = list(mapping_names), list(model_names)
    lines = [f'{what} names of the mapping differ from the model\'s ({model_path}):',
             f'  mapping: {mapping_names}',
             f'  model:   {model_names}']
    missing = [n for n in model_names if n not in mapping_names]
    extra = [n for n in mapping_names if n not in model_names]
    if missing:
        lines.append(f'  the model needs, the mapping lacks: {missing}')
    if extra:
        lines.append(f'  the mapping has, the model does not take: {extra}')
    if not missing and not extra:
        lines.append('  same names in a different order: list them in the model\'s order')
    return '\n'.join(lines)


# -- parameters files -------------------------------------------------------------------------

def flatten(params, prefix=''):
    """Nested parameter dicts -> dotted names, as rcl reads a parameters file."""
    out = {}
    for key, value in params.items():
        if isinstance(value, dict):
            out.update(flatten(value, f'{prefix}{key}.'))
        else:
            out[prefix + str(key)] = value
    return out


def _matching_keys(node_name, namespace):
    ns = '/' + namespace.strip('/') if namespace.strip('/') else ''
    # Broadest first, so the most specific entry wins when merged in this order.
    return ['/**', '/**/' + node_name, node_name, '/' + node_name, f'{ns}/{node_name}']


def read_params_file(params_file, node_name, namespace=''):
    """The parameters a ROS 2 parameters file gives `node_name` launched in `namespace`
    (its own entries and `/**` wildcards, merged as rcl does), flattened. ConfigError says
    what is wrong with the file."""
    import yaml
    path = Path(params_file)
    if not path.is_file():
        raise ConfigError(f'parameters file {params_file}: no such file')
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f'parameters file {params_file} is not valid YAML: {exc}') from None
    if not isinstance(doc, dict):
        raise ConfigError(f'parameters file {params_file}: expected a mapping of node names '
                          'to ros__parameters')
    merged = {}
    found = False
    for key in dict.fromkeys(_matching_keys(node_name, namespace)):
        entry = doc.get(key)
        if isinstance(entry, dict) and isinstance(entry.get('ros__parameters'), dict):
            merged.update(flatten(entry['ros__parameters']))
            found = True
    if not found:
        raise ConfigError(f'parameters file {params_file} has no ros__parameters for '
                          f'{node_name} (keys: {", ".join(map(str, doc)) or "none"})')
    return merged
