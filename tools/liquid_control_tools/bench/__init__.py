"""Benchmarks (`liquid-control bench`) and the liquid-vs-GRU study.

One module per benchmark; each exposes `run(ctx) -> dict` (JSON-serialisable results) and
is rendered by `report`. Results go to a results directory (runs/bench by default) so one
benchmark can be re-run alone and the documents re-rendered from the rest.

    step_latency   runtime vs torch eager vs numpy, per arch
    loop_timing    the node's control loop vs its floors and a plain timer at 100/200/1000 Hz
    e2e_latency    sensor message -> command across processes over DDS at 500 Hz
    cpu_memory     CPU share and resident memory of the node process at 100 Hz to 1 kHz
    trigger_closed_loop  trigger: sensor in closed loop under irregular sensor sampling
    training_cost  training wall time and export size per shipped model
    study          every arch over training seeds in closed loop (liquid_control_tools.study)
"""

PERFORMANCE = ('step_latency', 'loop_timing', 'e2e_latency', 'cpu_memory',
               'trigger_closed_loop', 'training_cost')
STUDY = ('study',)
BENCHMARKS = PERFORMANCE + STUDY
