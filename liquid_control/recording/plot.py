"""A PNG of a run's states and commands (matplotlib, Agg: no display needed)."""
from __future__ import annotations

import numpy as np

from liquid_control.tasks.spec import get_task


def _wrap(angle):
    """Wrapped to [-pi, pi), with NaN where it jumps so the line breaks instead of
    crossing the plot."""
    wrapped = (np.asarray(angle, dtype=np.float64) + np.pi) % (2 * np.pi) - np.pi
    jumps = np.flatnonzero(np.abs(np.diff(wrapped)) > np.pi)
    return np.insert(wrapped, jumps + 1, np.nan), jumps + 1


def _relative(run):
    """Time axis relative to the first sensor message, s."""
    t0 = run.state_time[0] if len(run.state_time) else 0.0
    return run.state_time - t0, run.command_time - t0


def plot_run(run, path, title=''):
    """Write the plot of `run` (analysis.RunData) to `path`; returns the path."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    spec = get_task(run.task)
    ts, tc = _relative(run)
    low, high = spec.action_low, spec.action_high
    if run.task == 'cartpole':
        fig, axes = plt.subplots(4, 1, figsize=(10, 10), sharex=True)
        s = run.state
        axes[0].plot(ts, s[:, 0], label='cart position (m)')
        axes[0].plot(ts, s[:, 1], label='cart velocity (m/s)', alpha=0.7)
        axes[0].axhline(2.4, color='grey', ls=':', lw=1)
        axes[0].axhline(-2.4, color='grey', ls=':', lw=1, label='rail ends')
        angle, breaks = _wrap(s[:, 2])
        axes[1].plot(np.insert(ts, breaks, ts[np.minimum(breaks, len(ts) - 1)]), angle,
                     label='pole angle, 0 = upright (rad)')
        axes[1].axhspan(-0.2, 0.2, color='green', alpha=0.1, label='upright (|angle| < 0.2)')
        axes[1].set_ylim(-np.pi - 0.2, np.pi + 0.2)
        axes[2].plot(ts, s[:, 3], label='pole angular velocity (rad/s)', color='tab:purple')
        axes[3].step(tc, run.command[:, 0], where='post', label='effort command (N)',
                     color='tab:red')
        axes[3].axhline(low[0], color='grey', ls='--', lw=1)
        axes[3].axhline(high[0], color='grey', ls='--', lw=1, label='limits')
    else:
        fig = plt.figure(figsize=(12, 9))
        grid = fig.add_gridspec(3, 2)
        ax_xy = fig.add_subplot(grid[:, 0])
        axes = [fig.add_subplot(grid[i, 1]) for i in range(3)]
        s = run.state
        if run.path is not None and len(run.path):
            ax_xy.plot(run.path[:, 0], run.path[:, 1], 'k--', lw=1, label='path (/plan)')
            ax_xy.plot(*run.path[-1], 'k*', ms=12, label='goal')
        ax_xy.plot(s[:, 0], s[:, 1], color='tab:blue', label='robot (/odom)')
        if len(s):
            ax_xy.plot(s[0, 0], s[0, 1], 'o', color='tab:blue')
        ax_xy.set_aspect('equal', adjustable='datalim')
        ax_xy.set_xlabel('x (m)')
        ax_xy.set_ylabel('y (m)')
        ax_xy.legend(loc='best', fontsize=8)
        ax_xy.grid(alpha=0.3)
        if run.path is not None and len(run.path) > 1 and len(s):
            axes[0].plot(ts, cross_track(run.path, s[:, :2]), label='cross-track error (m)')
        axes[0].plot(ts, s[:, 3], label='linear velocity (m/s)', alpha=0.7)
        axes[0].plot(ts, s[:, 4], label='angular velocity (rad/s)', alpha=0.7)
        axes[1].step(tc, run.command[:, 0], where='post', label='cmd_vel linear.x (m/s)',
                     color='tab:red')
        axes[1].axhline(low[0], color='grey', ls='--', lw=1)
        axes[1].axhline(high[0], color='grey', ls='--', lw=1, label='limits')
        axes[2].step(tc, run.command[:, 1], where='post', label='cmd_vel angular.z (rad/s)',
                     color='tab:orange')
        axes[2].axhline(low[1], color='grey', ls='--', lw=1)
        axes[2].axhline(high[1], color='grey', ls='--', lw=1, label='limits')
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(loc='upper right', fontsize=8)
    axes[-1].set_xlabel('sim time (s)')
    fig.suptitle(title or f'{run.task} run')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def cross_track(path_xy, xy):
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
