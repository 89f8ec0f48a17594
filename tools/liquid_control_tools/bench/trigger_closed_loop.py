"""`trigger: sensor` in closed loop: controller_node ticking on each sensor message, with dt
from the message stamps, against sim_node in lockstep, when the sensor samples irregularly.

Cart-pole, the shipped CfC and GRU. sim_node publishes its sensors (sample_timing):
  periodic   every 20 ms of sim time (the rate the models were trained at)
  jitter     each interval 20 ms x (1 + U(-0.5, 0.5)): the study's "jitter ±50%"
  poisson    exponential intervals of mean 20 ms: an event-driven sensor (gaps of 80 ms and
             more happen: the controller sees a long dt)
Each episode is one run (its own processes, private DDS domain; start state from its seed,
the same seeds for every cell); success is the simulator's own verdict for the episode. For
reference, the same models in the ROS-free evaluation (the study's episode runner, which
also steps on each observation with the true dt) under the same sampling, on the study's
start states.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from .common import ARCH_LABELS

TASK = 'cartpole'
ARCHS_RUN = ('cfc', 'gru')
# name -> (label, sim_node parameters, the same condition in sim.episode.run_episode)
CONDITIONS = {
    'periodic': ('periodic 50 Hz', {}, {}),
    'jitter': ('jitter ±50%', {'sample_timing': 'jitter', 'sample_jitter': 0.5},
               {'dt_jitter': 0.5}),
    'poisson': ('event-driven (Poisson, mean 50 Hz)', {'sample_timing': 'poisson'},
                {'event_sampling': True}),
}
FIRST_SEED = 1000
REFERENCE_EPISODES = 100


def run_episode(job):
    """job = (arch, model path, condition name, seed, run folder) -> the episode's result."""
    from liquid_control.bringup.session import SimSession
    from liquid_control.tasks import get_task

    arch, model, condition, seed, folder = job
    task = get_task(TASK)
    started = time.monotonic()
    session = SimSession(folder, task=TASK, controller=arch, model=str(model), mode='lockstep',
                         duration=task.episode_seconds, seed=seed,
                         sim_params=CONDITIONS[condition][1],
                         controller_params={'trigger': 'sensor'}, record=False)
    try:
        session.start()
        finished = session.run_to_end()
    finally:
        codes = session.stop()
    status = session.live.sim_status
    return {'arch': arch, 'condition': condition, 'seed': seed, 'finished': finished,
            'success': finished and status.get('episode.success') == 'true',
            'commands': session.live.commands, 'bad_commands': session.live.bad_commands,
            'sensor_messages': int(status.get('sensor_messages_published', 0)),
            'exit_codes': codes, 'seconds': time.monotonic() - started}


def reference(model, condition, episodes):
    """Success rate of the model in the ROS-free evaluation (study start states)."""
    from liquid_control.runtime import load_controller
    from liquid_control.sim.episode import evaluate
    from liquid_control.tasks import get_task
    from liquid_control.training.evaluation import SessionController

    from liquid_control_tools.study.conditions import STUDY_SEED

    task = get_task(TASK)
    controller = SessionController(load_controller(model))
    summary = evaluate(task.make_env, lambda: controller, episodes, STUDY_SEED,
                       nominal_dt=task.nominal_dt, **condition).summary
    return {'successes': summary['successes'], 'episodes': summary['episodes'],
            'success_ci95': list(summary['success_ci95'])}


def run(ctx):
    from liquid_control.sim.episode import wilson_interval

    episodes = 1 if ctx.quick else 30
    models = {arch: ctx.model(TASK, arch) for arch in ARCHS_RUN}
    jobs = [(arch, models[arch][0], condition, FIRST_SEED + i,
             ctx.scratch / f'trigger_{arch}_{condition}_{i}')
            for arch in ARCHS_RUN for condition in CONDITIONS for i in range(episodes)]
    ctx.log(f'trigger closed loop: {len(jobs)} lockstep episodes with trigger: sensor '
            f'({", ".join(ARCH_LABELS[a] for a in ARCHS_RUN)} x {", ".join(CONDITIONS)}), '
            f'{ctx.workers} at a time')
    started = time.monotonic()
    # Threads are enough: each run's simulator and controller are processes of their own;
    # this process only watches them (one rclpy context per run).
    with ThreadPoolExecutor(ctx.workers) as pool:
        episodes_out = list(pool.map(run_episode, jobs))
    cells = {}
    for arch in ARCHS_RUN:
        for condition, (label, _, in_process) in CONDITIONS.items():
            runs = [e for e in episodes_out if e['arch'] == arch and e['condition'] == condition]
            successes = sum(e['success'] for e in runs)
            cell = {'label': label, 'episodes': len(runs), 'successes': successes,
                    'success_ci95': list(wilson_interval(successes, len(runs))),
                    'unfinished': sum(not e['finished'] for e in runs),
                    'bad_commands': sum(e['bad_commands'] for e in runs),
                    'commands': sum(e['commands'] for e in runs),
                    'sensor_messages': sum(e['sensor_messages'] for e in runs),
                    'unclean_exits': sum(any(c != 0 for c in e['exit_codes'].values())
                                         for e in runs),
                    'unclean_exit_codes': [e['exit_codes'] for e in runs
                                           if any(c != 0 for c in e['exit_codes'].values())],
                    'model_source': models[arch][1]}
            cell['reference'] = reference(models[arch][0], in_process,
                                          10 if ctx.quick else REFERENCE_EPISODES)
            cells[f'{arch}/{condition}'] = cell
            ctx.log(f'  {ARCH_LABELS[arch]} {label}: {successes}/{len(runs)} episodes '
                    f'succeeded, {cell["bad_commands"]} commands outside the limits')
    return {'task': TASK, 'archs': list(ARCHS_RUN), 'conditions': list(CONDITIONS),
            'episodes': episodes, 'first_seed': FIRST_SEED, 'cells': cells,
            'wall_seconds': time.monotonic() - started}
