"""Discrete-time LQR by Riccati iteration, and a MuJoCo model's linearisation over one
control period (numpy + mujoco; no scipy)."""
from __future__ import annotations

import mujoco
import numpy as np


def dlqr(a, b, q, r, iterations=5000, tol=1e-10):
    """Gain K minimising sum x'Qx + u'Ru for x+ = Ax + Bu, with u = -K x."""
    p = np.array(q, dtype=np.float64)
    for _ in range(iterations):
        gain = np.linalg.solve(r + b.T @ p @ b, b.T @ p @ a)
        p_next = q + a.T @ p @ (a - b @ gain)
        p_next = 0.5 * (p_next + p_next.T)
        if np.max(np.abs(p_next - p)) <= tol * max(1.0, np.max(np.abs(p))):
            p = p_next
            break
        p = p_next
    else:
        raise RuntimeError('Riccati iteration did not converge: is (A, B) stabilisable?')
    return np.linalg.solve(r + b.T @ p @ b, b.T @ p @ a)


def linearise(model, qpos, qvel, ctrl, period):
    """(A, B) of the state [qpos, qvel] over `period` seconds of zero-order-held control,
    composed from MuJoCo's finite-difference one-step transition (exactly the integrator)."""
    data = mujoco.MjData(model)
    data.qpos[:], data.qvel[:], data.ctrl[:] = qpos, qvel, ctrl
    mujoco.mj_forward(model, data)
    nx = 2 * model.nv + model.na
    a1, b1 = np.zeros((nx, nx)), np.zeros((nx, model.nu))
    mujoco.mjd_transitionFD(model, data, 1e-6, True, a1, b1, None, None)
    n_steps = max(int(round(period / model.opt.timestep)), 1)
    a, b = np.eye(nx), np.zeros((nx, model.nu))
    for _ in range(n_steps):
        a, b = a1 @ a, a1 @ b + b1
    return a, b
