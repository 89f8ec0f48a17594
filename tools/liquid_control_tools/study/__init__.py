"""The study: do liquid networks control better than a GRU, and better than networks without
memory or without recurrence, where memory and elapsed time matter?

    conditions.py  the disturbances every controller meets (the same episodes for all)
    plan.py        which tasks, architectures and training seeds; the jobs they make
    jobs.py        one job: train a seed's model, or evaluate a model in one condition
    backends.py    where jobs run: this process, a local process pool, or Ray
    run.py         the whole study (`liquid-control bench --only study`)
    stats.py       paired tests, corrections, intervals across seeds
    report.py      docs/study.md from the results
"""
