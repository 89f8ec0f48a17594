"""The validation plot of a model trained from bags: recorded commands against the exported
model's, open loop, on the held-out recordings (matplotlib, Agg: no display needed)."""
from __future__ import annotations

import numpy as np

MAX_SEQUENCES = 3       # the longest held-out sequences; more makes the panels unreadable


def plot_validation(path, sequences, predictions, spec, title):
    """One panel per action: recorded and predicted over time, the longest held-out
    sequences side by side on one time axis (a gap between them)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))[:MAX_SEQUENCES]
    fig, axes = plt.subplots(spec.n_act, 1, figsize=(10, 2.6 * spec.n_act), sharex=True,
                             squeeze=False)
    offset = 0.0
    for k, i in enumerate(order):
        seq, predicted = sequences[i], predictions[i]
        t = offset + np.cumsum(seq.dt[:, 0]) - seq.dt[0, 0]
        for a, ax in enumerate(axes[:, 0]):
            ax.plot(t, seq.action[:, a], color='0.3', lw=1.2,
                    label='recorded' if k == 0 else None)
            ax.plot(t, predicted[:, a], color='tab:blue', lw=1.0, alpha=0.85,
                    label='model (exported file)' if k == 0 else None)
            if k:
                ax.axvline(offset, color='0.8', lw=0.8)
        offset = t[-1] + 1.0
    for a, ax in enumerate(axes[:, 0]):
        ax.set_ylabel(spec.action_names[a])
        ax.axhline(spec.action_low[a], color='tab:red', lw=0.6, ls=':')
        ax.axhline(spec.action_high[a], color='tab:red', lw=0.6, ls=':')
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc='upper right', fontsize=8)
    axes[-1, 0].set_xlabel('time in the held-out recordings (s; sequences separated by lines)')
    fig.suptitle(f'{title}: open-loop validation on recordings not trained on')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
