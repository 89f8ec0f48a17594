"""`expert_node` (node `liquid_expert`): a task's expert controller as a ROS 2 node.

A reference to compare the learned controllers with (`liquid-control demo --controller
expert`), and a stand-in for controller_node when testing a simulator's plumbing. It reads
the task's controller parameters file, so it subscribes to the same sensors and publishes the
same command as controller_node, and builds each observation with the controller's own
observation code; each tick it steps the expert and publishes its action within the task's
limits. Like controller_node it ticks on a timer of the node's clock: with use_sim_time (the
default here) once per control period of /clock. It publishes nothing until every
observation source has data.

Parameters: task (any installed task with an expert), control_rate_hz (default: the task's
nominal rate), params_file (default: the task's), sensor_timeout_s.
"""
from __future__ import annotations

import sys

import numpy as np
from rclpy.node import Node
from rclpy.parameter import Parameter

from liquid_control.control.actions import message_builder
from liquid_control.control.observations import ObservationLayout, ObservationSource
from liquid_control.control.params import (ConfigError, mismatch_message, parse_sink, parse_sources,
                                           read_params_file)
from liquid_control.interfaces import PATH, message_class
from liquid_control.tasks import get_task

from . import qos
from .controller_node import NODE_NAME as CONTROLLER_NODE_NAME
from .process import declare, run_node

NODE_NAME = 'liquid_expert'


class ExpertNode(Node):
    def __init__(self, node_name=NODE_NAME, **kwargs):
        super().__init__(node_name, **kwargs)
        self.task = get_task(declare(self, 'task', '', 'The task whose expert runs.'))
        if self.task.full_task is not None:
            # A task observed in part has the full task's expert, which needs the full
            # observation: the node subscribes to it as the full task's controller would.
            self.task = self.task.full_task
        rate = declare(self, 'control_rate_hz', 1.0 / self.task.nominal_dt,
                       'Ticks per second of the node clock.')
        params_file = declare(self, 'params_file', str(self.task.params_file or ''),
                              'The controller parameters file whose observation mapping and '
                              "command the expert uses (default: the task's).")
        timeout_s = declare(self, 'sensor_timeout_s', 0.5, 'Observations older than this are '
                            'not used (no command is published until fresh data comes).')
        if not params_file:
            raise ConfigError(f'task {self.task.name!r} has no controller parameters file: '
                              'set params_file')
        values = read_params_file(params_file, CONTROLLER_NODE_NAME, self.get_namespace())
        clock = self.get_clock()
        self.layout = ObservationLayout(
            [ObservationSource(c, lambda: clock.now().nanoseconds)
             for c in parse_sources(values)])
        if self.layout.names != self.task.obs_names:
            raise ConfigError(mismatch_message('observation', self.layout.names,
                                               self.task.obs_names, f'task {self.task.name}'))
        sink = parse_sink(values)
        if tuple(sink.names) != self.task.action_names:
            raise ConfigError(mismatch_message('action', sink.names, self.task.action_names,
                                               f'task {self.task.name}'))
        for source in self.layout.sources:
            c = source.config
            self.create_subscription(message_class(c.msg_type), c.topic, source.on_message,
                                     qos.profile(c.qos))
            if c.path_topic:
                self.create_subscription(message_class(PATH), c.path_topic, source.on_path,
                                         qos.profile(c.path_qos))
        self._pub = self.create_publisher(message_class(sink.msg_type), sink.topic,
                                          qos.profile(sink.qos))
        self._build = message_builder(sink.msg_type, sink.names, message_class(sink.msg_type),
                                      stamp=lambda: clock.now().to_msg())
        self.expert = self.task.make_expert()
        self.expert.reset()
        self.low = np.asarray(self.task.action_low, dtype=np.float64)
        self.high = np.asarray(self.task.action_high, dtype=np.float64)
        self.period = 1.0 / rate
        self.timeout_ns = int(timeout_s * 1e9)
        self.obs = np.zeros(self.task.n_obs)
        self.ticks = 0
        self._previous = None
        self.create_timer(self.period, self._tick)

    def _tick(self):
        now = self.get_clock().now().nanoseconds
        if self.layout.gather(now, self.timeout_ns, self.obs):
            return                           # a source without fresh data: wait for it
        dt = (now - self._previous) / 1e9 if self._previous is not None else self.period
        self._previous = now
        action = np.clip(self.expert.act(self.obs.copy(), max(dt, 1e-6)), self.low, self.high)
        self._pub.publish(self._build(action))
        self.ticks += 1


def main(args=None):
    args = list(sys.argv if args is None else args)
    # On sim time unless the command line says otherwise.
    overrides = [] if any('use_sim_time' in a for a in args) else [
        Parameter('use_sim_time', value=True)]
    return run_node(lambda: ExpertNode(parameter_overrides=overrides), NODE_NAME, args)


if __name__ == '__main__':
    sys.exit(main())
