"""ControllerSession: load one ONNX controller, check it against the contract, step it.

Bad input never reaches the recurrent state. `step` raises StepRejected, and leaves the
state as it was, when the observation has the wrong size or a non-finite value, when dt is
not a finite number > 0, or when the model itself produces a non-finite output. The caller
(the node) then publishes its safe command for that tick. Every action returned is finite
and clipped to the model's [action_low, action_high].
"""
from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

from . import contract as c
from . import integrity
from .contract import ModelContractError, ModelMetadata

_FLOAT = 'tensor(float)'


class StepRejected(ValueError):
    """One step was refused; the recurrent state is unchanged."""


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _session_options():
    opts = ort.SessionOptions()
    # One thread: a control step is microseconds; thread hand-off would cost more than it saves
    # and would compete with the control loop for the robot's cores.
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return opts


def _dims(source, arg, expected, allow_empty=False):
    """Check one graph input/output: float32, rank 2, batch 1 (or symbolic), width fixed
    (0 only with allow_empty: the state of a stateless policy)."""
    if arg.type != _FLOAT:
        raise ModelContractError(source, f'{arg.name!r} has type {arg.type}, expected float32')
    shape = list(arg.shape)
    if len(shape) != 2:
        raise ModelContractError(
            source, f'{arg.name!r} has shape {shape}, expected [1, {expected or "n"}]')
    batch, width = shape
    if isinstance(batch, int) and batch != 1:
        raise ModelContractError(source, f'{arg.name!r} has batch size {batch}, expected 1')
    if not isinstance(width, int) or width < (0 if allow_empty else 1):
        raise ModelContractError(
            source, f'{arg.name!r} has shape {shape}: its second dimension must be fixed')
    if expected is not None and width != expected:
        raise ModelContractError(
            source, f'{arg.name!r} has width {width}, metadata says {expected}')
    return width


def load_onnx_session(path, data=None):
    """Open an onnxruntime session for a model file, with clear errors for missing/not-ONNX.

    The session is built from the file's bytes (`data`, or read here), never from its path:
    what was hashed is what runs, and external-data files are refused (see integrity.py).
    Only the CPU provider and onnxruntime's own operators: no custom-op library is registered.
    """
    path = Path(path)
    if data is None:
        data = integrity.read_model_bytes(path)
    try:
        return ort.InferenceSession(data, sess_options=_session_options(),
                                    providers=['CPUExecutionProvider'])
    except Exception as exc:  # onnxruntime raises several unrelated types for bad files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if 'xternal data' in first_line or 'model_path must not be empty' in first_line:
            first_line = 'it uses external data files; a controller is one self-contained file'
        raise ModelContractError(path, f'not a loadable ONNX model ({first_line})') from None


def validate(path, session):
    """Check graph interface and metadata against the contract; return ModelMetadata."""
    inputs = {a.name: a for a in session.get_inputs()}
    outputs = {a.name: a for a in session.get_outputs()}
    if sorted(inputs) != sorted(c.INPUT_NAMES):
        raise ModelContractError(path, f'inputs are {sorted(inputs)}, '
                                 f'expected {sorted(c.INPUT_NAMES)}')
    if sorted(outputs) != sorted(c.OUTPUT_NAMES):
        raise ModelContractError(path, f'outputs are {sorted(outputs)}, '
                                 f'expected {sorted(c.OUTPUT_NAMES)}')
    meta = ModelMetadata.from_props(session.get_modelmeta().custom_metadata_map, path)
    _dims(path, inputs[c.INPUT_OBS], meta.n_obs)
    _dims(path, inputs[c.INPUT_DT], 1)
    _dims(path, outputs[c.OUTPUT_ACTION], meta.n_act)
    state_in = _dims(path, inputs[c.INPUT_STATE], None, allow_empty=True)
    if state_in != meta.n_state:
        raise ModelContractError(
            path, f'n_state mismatch: input {c.INPUT_STATE!r} has width {state_in}, '
            f'metadata {c.KEY_N_STATE} says {meta.n_state}')
    _dims(path, outputs[c.OUTPUT_STATE], meta.n_state, allow_empty=True)
    return meta


class ControllerSession:
    """One loaded controller with its recurrent state.

    Not thread-safe: one control loop steps it. Loading and validation happen in the
    constructor, so a new model can be prepared off the control path and swapped in whole.
    """

    def __init__(self, path, expected_sha256=None, require_recorded_sha256=False):
        self.path = Path(path)
        data = integrity.read_model_bytes(self.path)
        self.file_sha256 = integrity.sha256_hex(data)
        # Checked before onnxruntime parses anything: a file that is not the expected one is
        # never loaded. See integrity.check for the pin and the recorded (card) sha256.
        self.recorded_sha256 = integrity.check(self.path, self.file_sha256, expected_sha256,
                                               require_recorded_sha256)
        self._session = load_onnx_session(self.path, data)
        del data
        self.metadata = validate(self.path, self._session)
        meta = self.metadata
        self._low = np.asarray(meta.action_low, dtype=np.float32)
        self._high = np.asarray(meta.action_high, dtype=np.float32)
        # Preallocated buffers bound once: the hot path allocates and copies nothing but the
        # observation in and the clipped action out. Two rows, each [obs | action | state],
        # alternate: a step copies the observation into one row, reads the state held in the
        # other and writes its outputs next to that observation, so the new state needs no
        # copy, one check covers the observation and both outputs for non-finite values, and
        # a rejected step leaves the current state where it was.
        self._dt = np.zeros((1, 1), np.float32)
        n_obs, n_act = meta.n_obs, meta.n_act
        width = n_obs + n_act + meta.n_state
        self._rows = (np.zeros((1, width), np.float32), np.zeros((1, width), np.float32))
        self._bindings = []
        for read, write in ((1, 0), (0, 1)):
            binding = self._session.io_binding()
            row = self._rows[write]
            for name, buf in ((c.INPUT_OBS, row[:, :n_obs]),
                              (c.INPUT_STATE, self._rows[read][:, n_obs + n_act:]),
                              (c.INPUT_DT, self._dt)):
                binding.bind_input(name, 'cpu', 0, np.float32, buf.shape, buf.ctypes.data)
            for name, buf in ((c.OUTPUT_ACTION, row[:, n_obs:n_obs + n_act]),
                              (c.OUTPUT_STATE, row[:, n_obs + n_act:])):
                binding.bind_output(name, 'cpu', 0, np.float32, buf.shape, buf.ctypes.data)
            self._bindings.append(binding)
        self._current = 1           # the row holding the current state
        self._n_obs = n_obs
        self._obs_shape = (n_obs,)
        # Per row: the whole row, its observation and its action (1-D views), for step().
        self._row_views = tuple(row[0] for row in self._rows)
        self._obs_views = tuple(row[0, :n_obs] for row in self._rows)
        self._action_views = tuple(row[0, n_obs:n_obs + n_act] for row in self._rows)
        self._state_start = n_obs + n_act
        self._row_zeros = np.zeros(width, np.float32)
        self.steps = 0
        self.rejected = 0

    @property
    def name(self):
        return self.path.stem

    @property
    def state(self):
        """A copy of the recurrent state, shape (n_state,)."""
        return self._row_views[self._current][self._state_start:].copy()

    def reset(self):
        """Zero the recurrent state (start of an episode, after a swap or a sensor gap)."""
        self._row_views[self._current][self._state_start:] = 0.0

    def step(self, obs, dt):
        """Advance one control tick; return the action, shape (n_act,), finite and in limits.

        Raises StepRejected (state unchanged) for a bad observation or dt.
        """
        try:
            dt = float(dt)
        except (TypeError, ValueError):
            return self._reject(f'dt {dt!r} is not a number')
        if not 0.0 < dt < math.inf:   # NaN fails both comparisons
            return self._reject(f'dt must be a finite number > 0 s, got {dt}')
        written = 1 - self._current
        obs_view = self._obs_views[written]
        if obs.__class__ is np.ndarray and obs.shape == self._obs_shape:
            obs_view[:] = obs          # the node's case: a vector of the right size
        elif np.size(obs) != self._n_obs:
            return self._reject(f'observation has {np.size(obs)} values, the model takes '
                                f'{self._n_obs} ({", ".join(self.metadata.obs_names)})')
        else:
            obs_view[:] = obs if np.ndim(obs) == 1 else np.ravel(obs)
        self._dt[0, 0] = dt
        self._session.run_with_iobinding(self._bindings[written])
        # A dot product with zeros is 0 when every value is finite and NaN otherwise
        # (0 * inf = NaN), without overflow, in one call: the observation (as float32) and
        # both outputs at once. The model ran on the written row only: on rejection the
        # current state is untouched.
        if self._row_views[written].dot(self._row_zeros) != 0.0:
            bad = [n for n, v in zip(self.metadata.obs_names, obs_view) if not np.isfinite(v)]
            if bad:
                return self._reject(f'non-finite observation (as float32) {", ".join(bad)}')
            return self._reject('the model produced a non-finite output')
        self._current = written
        self.steps += 1
        return np.minimum(np.maximum(self._action_views[written], self._low), self._high)

    def _reject(self, reason):
        self.rejected += 1
        raise StepRejected(f'{self.path.name}: step rejected: {reason}')

    def __repr__(self):
        m = self.metadata
        return (f'ControllerSession({str(self.path)!r}, arch={m.arch}, task={m.task}, '
                f'n_obs={m.n_obs}, n_state={m.n_state}, n_act={m.n_act})')


def load_controller(path, expected_sha256=None, require_recorded_sha256=False):
    """Load and validate a model file (see ControllerSession)."""
    return ControllerSession(os.fspath(path), expected_sha256=expected_sha256,
                             require_recorded_sha256=require_recorded_sha256)
