"""A PNG of a run's signals and commands (matplotlib, Agg: no display needed), laid out by the
task's Plot: one panel per group of signals, one per action, and the trajectory in the plane
(with the path and the distance to it) when the task names one."""
from __future__ import annotations

import numpy as np

from liquid_control.control.path_features import wrap_angle
from liquid_control.tasks import get_task


def _wrap(times, angle):
    """Angles wrapped to [-pi, pi), with a NaN where they jump so the line breaks instead of
    crossing the plot."""
    wrapped = wrap_angle(np.asarray(angle, dtype=np.float64))
    jumps = np.flatnonzero(np.abs(np.diff(wrapped)) > np.pi) + 1
    return np.insert(times, jumps, times[np.minimum(jumps, len(times) - 1)]), \
        np.insert(wrapped, jumps, np.nan)


def _series(run, name, t0, wrap=False):
    times, values = run.signals.get(name, (np.zeros(0), np.zeros(0)))
    times = np.asarray(times) - t0
    return _wrap(times, values) if wrap and len(values) else (times, np.asarray(values))


def plot_run(run, path, title=''):
    """Write the plot of `run` (analysis.RunData) to `path`; returns the path."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    task = get_task(run.task)
    spec = task.plot
    t0 = run.start_time if np.isfinite(run.start_time) else 0.0
    labels = spec.action_labels or task.action_names
    trajectory = spec.trajectory and all(name in run.signals for name in spec.trajectory)
    extra = 1 if trajectory and run.path is not None and len(run.path) > 1 else 0
    n_panels = len(spec.panels) + extra + task.n_act
    if trajectory:
        fig = plt.figure(figsize=(12, max(6, 3 * n_panels)))
        grid = fig.add_gridspec(n_panels, 2)
        ax_xy = fig.add_subplot(grid[:, 0])
        axes = [fig.add_subplot(grid[i, 1]) for i in range(n_panels)]
        _trajectory(ax_xy, run, spec.trajectory)
    else:
        fig, axes = plt.subplots(n_panels, 1, figsize=(10, 2.5 * n_panels), sharex=True)
        axes = list(np.atleast_1d(axes))
    for ax, panel in zip(axes, spec.panels):
        for name, label in panel:
            times, values = _series(run, name, t0, name in spec.wrap)
            ax.plot(times, values, label=label)
            if name in spec.bands:
                low, high, band = spec.bands[name]
                ax.axhspan(low, high, color='green', alpha=0.1, label=band)
            for value, text in spec.lines.get(name, ()):
                ax.axhline(value, color='grey', ls=':', lw=1, label=text or None)
            if name in spec.wrap:
                ax.set_ylim(-np.pi - 0.2, np.pi + 0.2)
    if extra:
        ax = axes[len(spec.panels)]
        xs, ys = (run.signals[name] for name in spec.trajectory)
        ax.plot(xs[0] - t0, distance_to_path(run.path, np.stack([xs[1], ys[1]], axis=1)),
                label='distance to the path (m)')
    tc = run.command_time - t0
    for i, ax in enumerate(axes[len(spec.panels) + extra:]):
        ax.step(tc, run.command[:, i], where='post', label=labels[i], color='tab:red')
        ax.axhline(task.action_low[i], color='grey', ls='--', lw=1)
        ax.axhline(task.action_high[i], color='grey', ls='--', lw=1, label='limits')
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(loc='upper right', fontsize=8)
    axes[-1].set_xlabel('sim time (s)')
    fig.suptitle(title or f'{run.task} run')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _trajectory(ax, run, names):
    (_, x), (_, y) = (run.signals[name] for name in names)
    if run.path is not None and len(run.path):
        ax.plot(run.path[:, 0], run.path[:, 1], 'k--', lw=1, label='path')
        ax.plot(*run.path[-1], 'k*', ms=12, label='goal')
    ax.plot(x, y, color='tab:blue', label='robot')
    if len(x):
        ax.plot(x[0], y[0], 'o', color='tab:blue')
    ax.set_aspect('equal', adjustable='datalim')
    ax.set_xlabel('x (m)')
    ax.set_ylabel('y (m)')
    ax.legend(loc='best', fontsize=8)
    ax.grid(alpha=0.3)


def distance_to_path(path_xy, xy):
    """Unsigned distance of each point in xy to the polyline path_xy."""
    path_xy = np.asarray(path_xy, dtype=np.float64)
    a, b = path_xy[:-1], path_xy[1:]
    d = b - a
    length2 = np.maximum((d ** 2).sum(axis=1), 1e-12)
    out = np.empty(len(xy))
    for k, p in enumerate(np.asarray(xy, dtype=np.float64)):
        u = np.clip(((p - a) * d).sum(axis=1) / length2, 0.0, 1.0)
        out[k] = np.sqrt((((a + u[:, None] * d) - p) ** 2).sum(axis=1)).min()
    return out
