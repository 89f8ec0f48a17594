"""The statistics of the study: paired tests between single models, corrections for many
comparisons, and intervals across training seeds."""
from __future__ import annotations

import math

import numpy as np

# Two-sided 95% Student t quantiles by degrees of freedom (intervals over a few seeds).
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228}


def mcnemar_p(a, b):
    """Two-sided exact McNemar p-value for paired successes a, b (sequences of bools)."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)


def holm(pvalues):
    """Holm-adjusted p-values (same order)."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (len(p) - rank) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


def mean_ci(values, z=1.959964):
    """(mean, half-width of a normal-approximation 95% interval)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return float(v.mean()) if v.size else float('nan'), float('nan')
    return float(v.mean()), float(z * v.std(ddof=1) / math.sqrt(v.size))


def seed_interval(values):
    """(mean, low, high): a 95% Student-t interval of the mean over training seeds, clipped
    to [0, 1] for rates; one seed gives no interval (low = high = nan)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return float('nan'), float('nan'), float('nan')
    mean = float(v.mean())
    if v.size < 2:
        return mean, float('nan'), float('nan')
    half = _T95.get(v.size - 1, 1.959964) * float(v.std(ddof=1)) / math.sqrt(v.size)
    return mean, max(0.0, mean - half), min(1.0, mean + half)


def welch_p(a, b):
    """Two-sided p-value of Welch's t-test between two sets of per-seed rates (normal tail
    beyond 10 degrees of freedom; nan with fewer than 2 seeds on a side)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size < 2 or b.size < 2:
        return float('nan')
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if va + vb == 0:
        return 1.0 if a.mean() == b.mean() else 0.0
    t = abs(a.mean() - b.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    return float(_student_sf(t, df) * 2.0)


def _student_sf(t, df):
    """P(T > t) for Student's t with df degrees of freedom (regularised incomplete beta)."""
    x = df / (df + t * t)
    return 0.5 * _betainc(df / 2.0, 0.5, x)


def _betainc(a, b, x):
    """Regularised incomplete beta I_x(a, b) by its continued fraction (Numerical Recipes)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log(1.0 - x))
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _betainc(b, a, 1.0 - x)
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
    h = d
    for m in range(1, 200):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > 1e-300 else 1e-300)
            c = 1.0 + numerator / c
            c = c if abs(c) > 1e-300 else 1e-300
            h *= d * c
        if abs(d * c - 1.0) < 1e-12:
            break
    return front * h / a
