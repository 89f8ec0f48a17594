"""Where the study's jobs run. Every backend maps a module-level function over a list of jobs
and returns the results in the jobs' order, so the study's results do not depend on where
or in which order its jobs ran (each job is deterministic by its own seeds).

    serial  in this process (quick runs: a job is shorter than starting a process)
    pool    local processes, spawned (no state inherited from this one): the default
    ray     Ray tasks of one CPU each, on a local Ray started here with `workers` CPUs or on
            the cluster at `ray_address` ('auto': the one this machine belongs to). Needs the
            optional extra: `pip install .[cluster]`; every node needs liquid_control and
            liquid_control_tools installed as on this machine.
"""
from __future__ import annotations

from liquid_control_tools.bench.common import environment

BACKENDS = ('pool', 'ray')
# What every job process runs with: no progress bars from training.
WORKER_ENV = {'TQDM_DISABLE': '1'}


def make_backend(name, workers, ray_address=None):
    if name == 'ray':
        return RayBackend(workers, ray_address)
    if name != 'pool':
        raise ValueError(f'unknown backend {name!r}; known: {", ".join(BACKENDS)}')
    return SerialBackend() if workers <= 1 else PoolBackend(workers)


class SerialBackend:
    name = 'serial'
    workers = 1

    def map(self, fn, jobs, done=None):
        results = []
        for job in jobs:
            results.append(fn(job))
            if done is not None:
                done(len(results), len(jobs), results[-1])
        return results

    def close(self):
        pass


def _indexed(item):
    fn, index, job = item
    return index, fn(job)


class PoolBackend:
    name = 'pool'

    def __init__(self, workers):
        self.workers = workers

    def map(self, fn, jobs, done=None):
        import multiprocessing
        results = [None] * len(jobs)
        with environment(WORKER_ENV):              # inherited by the spawned processes
            with multiprocessing.get_context('spawn').Pool(min(self.workers, len(jobs))) as p:
                items = [(fn, i, job) for i, job in enumerate(jobs)]
                for count, (i, result) in enumerate(p.imap_unordered(_indexed, items), 1):
                    results[i] = result
                    if done is not None:
                        done(count, len(jobs), result)
        return results

    def close(self):
        pass


class RayBackend:
    name = 'ray'

    def __init__(self, workers, address=None):
        try:
            import ray
        except ImportError as exc:
            raise RuntimeError('--backend ray needs Ray: pip install .[cluster]') from exc
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            options = dict(runtime_env={'env_vars': dict(WORKER_ENV)}, log_to_driver=False)
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, **options)
        self.address = address or 'local'
        self.workers = int(ray.cluster_resources().get('CPU', workers))

    def map(self, fn, jobs, done=None):
        ray = self._ray
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        pending = {remote.remote(job): i for i, job in enumerate(jobs)}
        results = [None] * len(jobs)
        count = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                results[i] = ray.get(ref)          # a job that raised raises here
                count += 1
                if done is not None:
                    done(count, len(jobs), results[i])
        return results

    def close(self):
        if self._started:
            self._ray.shutdown()
