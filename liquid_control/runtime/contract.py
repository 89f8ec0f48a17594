"""The model contract: the one place that says what an ONNX controller file must look like.

Every controller is stepped once per control tick:
    inputs   obs [1, n_obs], state [1, n_state], dt [1, 1]   (float32; dt in seconds, > 0)
    outputs  action [1, n_act], state_out [1, n_state]       (float32)
n_state may be 0 (a stateless policy: state and state_out are [1, 0]).
Observation normalisation and action scaling live inside the graph. The file's
metadata_props carry the strings below (lists and numbers as JSON). docs/model_contract.md
is the user-facing description of the same thing.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

CONTRACT_VERSION = '1'

INPUT_OBS = 'obs'
INPUT_STATE = 'state'
INPUT_DT = 'dt'
OUTPUT_ACTION = 'action'
OUTPUT_STATE = 'state_out'
INPUT_NAMES = (INPUT_OBS, INPUT_STATE, INPUT_DT)
OUTPUT_NAMES = (OUTPUT_ACTION, OUTPUT_STATE)

# What this project trains (a file may name any arch). The liquid cells and the GRU are the
# shipped models of the built-in tasks; the baselines are in the study to show what the
# networks gain over no memory (mlp), a fixed window (mlp_stack) and a gated RNN (lstm).
LIQUID_AND_GRU = ('cfc', 'ltc', 'ncp', 'gru')
BASELINES = ('mlp', 'mlp_stack', 'lstm')
ARCHS = LIQUID_AND_GRU + BASELINES
ARCH_NAME = re.compile(r'^[a-z][a-z0-9_-]{0,31}$')   # e.g. mlp, lstm, gru, my_policy

META_PREFIX = 'liquid_control.'
KEY_CONTRACT = META_PREFIX + 'contract'
KEY_ARCH = META_PREFIX + 'arch'
KEY_TASK = META_PREFIX + 'task'
KEY_OBS_NAMES = META_PREFIX + 'obs_names'
KEY_ACTION_NAMES = META_PREFIX + 'action_names'
KEY_ACTION_LOW = META_PREFIX + 'action_low'
KEY_ACTION_HIGH = META_PREFIX + 'action_high'
KEY_NOMINAL_DT = META_PREFIX + 'nominal_dt'
KEY_N_STATE = META_PREFIX + 'n_state'
KEY_SEED = META_PREFIX + 'seed'
KEY_SOURCE_COMMIT = META_PREFIX + 'source_commit'
KEY_WEIGHTS_SHA256 = META_PREFIX + 'weights_sha256'
KEY_N_PARAMS = META_PREFIX + 'n_params'

REQUIRED_KEYS = (
    KEY_CONTRACT, KEY_ARCH, KEY_TASK, KEY_OBS_NAMES, KEY_ACTION_NAMES, KEY_ACTION_LOW,
    KEY_ACTION_HIGH, KEY_NOMINAL_DT, KEY_N_STATE, KEY_SEED, KEY_SOURCE_COMMIT,
    KEY_WEIGHTS_SHA256,
)


class ModelContractError(ValueError):
    """A model file does not satisfy the contract. The message names the file and the fault."""

    def __init__(self, source, problem):
        self.source = str(source)
        self.problem = problem
        super().__init__(f'{self.source}: {problem}')


@dataclass(frozen=True)
class ModelMetadata:
    """The contract's metadata, parsed and checked."""

    arch: str
    task: str
    obs_names: tuple
    action_names: tuple
    action_low: tuple
    action_high: tuple
    nominal_dt: float
    n_state: int
    seed: int
    source_commit: str
    weights_sha256: str
    n_params: int | None = None
    contract: str = CONTRACT_VERSION
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def n_obs(self):
        return len(self.obs_names)

    @property
    def n_act(self):
        return len(self.action_names)

    def to_props(self):
        """The metadata_props dict (str -> str) to write into an ONNX file."""
        props = {
            KEY_CONTRACT: self.contract,
            KEY_ARCH: self.arch,
            KEY_TASK: self.task,
            KEY_OBS_NAMES: json.dumps(list(self.obs_names)),
            KEY_ACTION_NAMES: json.dumps(list(self.action_names)),
            KEY_ACTION_LOW: json.dumps([float(v) for v in self.action_low]),
            KEY_ACTION_HIGH: json.dumps([float(v) for v in self.action_high]),
            KEY_NOMINAL_DT: json.dumps(float(self.nominal_dt)),
            KEY_N_STATE: json.dumps(int(self.n_state)),
            KEY_SEED: json.dumps(int(self.seed)),
            KEY_SOURCE_COMMIT: self.source_commit,
            KEY_WEIGHTS_SHA256: self.weights_sha256,
        }
        if self.n_params is not None:
            props[KEY_N_PARAMS] = json.dumps(int(self.n_params))
        props.update({k: str(v) for k, v in self.extra.items()})
        return props

    @classmethod
    def from_props(cls, props, source):
        """Parse metadata_props; raise ModelContractError naming source and the bad key."""
        missing = [k for k in REQUIRED_KEYS if k not in props]
        if missing:
            raise ModelContractError(source, f'missing metadata {", ".join(missing)}')
        if props[KEY_CONTRACT] != CONTRACT_VERSION:
            raise ModelContractError(
                source, f'metadata {KEY_CONTRACT} is {props[KEY_CONTRACT]!r}, '
                f'this runtime reads contract {CONTRACT_VERSION!r}')
        arch = props[KEY_ARCH]
        if not ARCH_NAME.match(arch):
            raise ModelContractError(
                source, f'metadata {KEY_ARCH} is {arch!r}, expected a short lower-case name '
                '(cfc, ltc, ncp, gru, mlp, lstm, ...)')
        obs_names = _string_list(props, KEY_OBS_NAMES, source)
        action_names = _string_list(props, KEY_ACTION_NAMES, source)
        low = _number_list(props, KEY_ACTION_LOW, source, len(action_names))
        high = _number_list(props, KEY_ACTION_HIGH, source, len(action_names))
        for name, lo, hi in zip(action_names, low, high):
            if not lo < hi:
                raise ModelContractError(
                    source, f'action {name!r}: action_low {lo} is not below action_high {hi}')
        nominal_dt = _number(props, KEY_NOMINAL_DT, source)
        if not nominal_dt > 0:
            raise ModelContractError(source, f'metadata {KEY_NOMINAL_DT} must be > 0, '
                                     f'got {nominal_dt}')
        n_state = _integer(props, KEY_N_STATE, source, minimum=0)    # 0: a stateless policy
        seed = _integer(props, KEY_SEED, source, minimum=0)
        n_params = _integer(props, KEY_N_PARAMS, source, 0) if KEY_N_PARAMS in props else None
        sha = props[KEY_WEIGHTS_SHA256]
        if len(sha) != 64 or any(c not in '0123456789abcdef' for c in sha):
            raise ModelContractError(
                source, f'metadata {KEY_WEIGHTS_SHA256} is not a hex sha256: {sha!r}')
        known = set(REQUIRED_KEYS) | {KEY_N_PARAMS}
        extra = {k: v for k, v in props.items() if k not in known}
        return cls(arch=arch, task=props[KEY_TASK], obs_names=obs_names,
                   action_names=action_names, action_low=low, action_high=high,
                   nominal_dt=nominal_dt, n_state=n_state, seed=seed,
                   source_commit=props[KEY_SOURCE_COMMIT], weights_sha256=sha,
                   n_params=n_params, extra=extra)


def _json(props, key, source):
    try:
        return json.loads(props[key])
    except (json.JSONDecodeError, TypeError):
        raise ModelContractError(
            source, f'metadata {key} is not valid JSON: {props[key]!r}') from None


def _string_list(props, key, source):
    value = _json(props, key, source)
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, str) and v for v in value)):
        raise ModelContractError(
            source, f'metadata {key} must be a non-empty JSON list of names, got {props[key]!r}')
    if len(set(value)) != len(value):
        raise ModelContractError(source, f'metadata {key} repeats a name: {props[key]!r}')
    return tuple(value)


def _number(props, key, source):
    value = _json(props, key, source)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelContractError(source, f'metadata {key} must be a finite number, '
                                 f'got {props[key]!r}')
    return float(value)


def _number_list(props, key, source, length):
    value = _json(props, key, source)
    if (not isinstance(value, list) or len(value) != length or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in value)):
        raise ModelContractError(
            source, f'metadata {key} must be a JSON list of {length} finite numbers '
            f'(one per action), got {props[key]!r}')
    return tuple(float(v) for v in value)


def _integer(props, key, source, minimum):
    value = _json(props, key, source)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ModelContractError(source, f'metadata {key} must be an integer >= {minimum}, '
                                 f'got {props[key]!r}')
    return value
