"""What happens in one control tick, without ROS.

`BoundController` is a loaded model checked against the node's mapping (observation names,
action names, limits): the unit a swap installs whole. `ControlCore.tick(now_ns, dt)` reads
the latest observations, runs the watchdog, steps the model and passes its action through
the sink; it returns the command to publish, which is always finite and within the limits:
- a stale source (watchdog tripped) -> the safe command; the state is reset when data returns;
- a step the runtime rejects (StepRejected) -> the safe command, state kept;
- a swap requested from another thread -> installed at the start of the next tick, state reset.
"""
from __future__ import annotations

import enum
import threading
from time import perf_counter_ns

import numpy as np

from liquid_control.runtime import ModelContractError, StepRejected, load_controller, resolve_model

from .actions import ActionLimits, ActionSink
from .watchdog import RECOVERED, Watchdog


class Outcome(enum.IntEnum):
    CONTROL = 0     # the model's action (limited)
    WATCHDOG = 1    # safe command: stale sensor data
    REJECTED = 2    # safe command: the runtime rejected the step


class BoundController:
    """A ControllerSession whose metadata fits the mapping, with its resolved limits."""

    def __init__(self, session, layout, sink_config):
        layout.check_model(session.metadata.obs_names, session.path)
        self.limits = ActionLimits.resolve(sink_config.names, sink_config.limits,
                                           session.metadata, session.path)
        self.session = session

    @property
    def name(self):
        return self.session.name

    @property
    def path(self):
        return self.session.path

    @property
    def sha256(self):
        return self.session.file_sha256

    @property
    def metadata(self):
        return self.session.metadata

    def with_limits(self, layout, sink_config):
        """The same session under new limits (a live change of action.* parameters)."""
        return BoundController(self.session, layout, sink_config)


def load_bound_controller(spec, layout, sink_config, expected_sha256=None,
                          require_sha256=False):
    """Resolve, load, validate and bind a model spec (name or path).

    expected_sha256 / require_sha256: the integrity checks of runtime.integrity (a pin, and
    whether the model must have a recorded sha256). Raises ModelContractError (file,
    integrity) or ConfigError (mapping mismatch); both say why.
    """
    session = load_controller(resolve_model(spec), expected_sha256=expected_sha256 or None,
                              require_recorded_sha256=require_sha256)
    bound = BoundController(session, layout, sink_config)
    trial_step(session)
    return bound


def trial_step(session):
    """Step a freshly loaded model once from zero state on a zero observation at its nominal
    dt, then zero it again. A model whose weights or normalisation hold NaN or inf loads
    fine and then fails every step: refused here (ModelContractError), it never replaces a
    working model or leaves the robot on its safe command."""
    try:
        session.step(np.zeros(session.metadata.n_obs), session.metadata.nominal_dt)
    except StepRejected as exc:
        raise ModelContractError(session.path, f'refused: a trial step (zero state, zero '
                                 f'observation, dt {session.metadata.nominal_dt:g} s) failed: '
                                 f'{str(exc).split("step rejected: ")[-1]}') from None
    finally:
        session.reset()
        session.steps = session.rejected = 0


class ControlCore:
    def __init__(self, layout, controller, sensor_timeout_s, period_s, dt_source='measured'):
        self.layout = layout
        self.controller = controller
        self.sink = ActionSink(controller.limits)
        self.sensor_timeout_s = sensor_timeout_s
        self.period_s = period_s
        self.dt_source = dt_source
        self.watchdog = Watchdog()
        self._obs = np.zeros(len(layout.names), dtype=np.float64)
        self._pending = None
        self._pending_lock = threading.Lock()
        self._reset_pending = True
        self.ticks = 0
        self.outcomes = [0, 0, 0]
        self.swaps = 0
        self.time_jumps = 0
        self.last_step_ns = 0
        self.last_rejection = ''

    # -- requests from other threads ------------------------------------------------------------
    def request(self, controller, reset_state=True):
        """Install `controller` at the start of the next tick (reset_state: a new model)."""
        with self._pending_lock:
            self._pending = (controller, reset_state)

    def install_pending(self):
        """Install a requested controller now (between ticks, or while no loop runs)."""
        if self._pending is None:
            return False
        with self._pending_lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return False
        controller, reset_state = pending
        if controller.session is not self.controller.session:
            self.swaps += 1
        self.controller = controller
        self.sink = ActionSink(controller.limits, previous=self.sink.last)
        if reset_state:
            self._reset_pending = True
        return True

    @property
    def pending_controller(self):
        pending = self._pending
        return pending[0] if pending is not None else None

    def restart(self):
        """A new activation: fresh state, watchdog waiting for data, start from safe."""
        self.install_pending()
        self.watchdog.reset()
        self.sink.safe_command()
        self._reset_pending = True

    # -- the tick ---------------------------------------------------------------------------------
    def tick(self, now_ns, measured_dt):
        """One control tick -> (command array, Outcome)."""
        if self._pending is not None:
            self.install_pending()
        dt = measured_dt if self.dt_source == 'measured' else self.period_s
        if not dt > 0:
            # Time went backwards or stood still (a simulation reset): start over.
            self.time_jumps += 1
            self._reset_pending = True
            dt = self.period_s
        stale = self.layout.gather(now_ns, int(self.sensor_timeout_s * 1e9), self._obs)
        if self.watchdog.update(stale) == RECOVERED:
            self._reset_pending = True
        self.ticks += 1
        self.last_step_ns = 0           # the model's step in this tick (0: none ran)
        if stale:
            self.outcomes[Outcome.WATCHDOG] += 1
            return self.sink.safe_command(), Outcome.WATCHDOG
        session = self.controller.session
        if self._reset_pending:
            session.reset()
            self._reset_pending = False
        started = perf_counter_ns()
        try:
            action = session.step(self._obs, dt)
        except StepRejected as exc:
            self.last_step_ns = perf_counter_ns() - started
            self.last_rejection = str(exc)
            self.outcomes[Outcome.REJECTED] += 1
            return self.sink.safe_command(), Outcome.REJECTED
        self.last_step_ns = perf_counter_ns() - started
        self.outcomes[Outcome.CONTROL] += 1
        return self.sink.command(action, dt), Outcome.CONTROL

    def safe_command(self):
        return self.sink.safe_command()

    @property
    def rejected_steps(self):
        return self.outcomes[Outcome.REJECTED]
