"""Sensor watchdog state: tripped while any observation source is stale.

The control core asks it once per tick with the list of stale sources; it reports the edges
(tripped, recovered) so the core can reset the recurrent state when data returns.
"""
from __future__ import annotations

TRIPPED = 'tripped'
RECOVERED = 'recovered'


class Watchdog:
    def __init__(self):
        self.tripped = True          # no data has been seen yet
        self.trips = 0
        self.stale = ()              # names of the stale sources at the last update
        self.reason = 'no sensor data yet'

    def update(self, stale_sources):
        """Feed the stale sources of this tick; return TRIPPED, RECOVERED or None."""
        if stale_sources:
            self.stale = tuple(s.name for s in stale_sources)
            self.reason = '; '.join(
                s.waiting_for if s.latest is None else f'{s.topic} timed out'
                for s in stale_sources)
            if not self.tripped:
                self.tripped = True
                self.trips += 1
                return TRIPPED
            return None
        self.stale = ()
        self.reason = ''
        if self.tripped:
            self.tripped = False
            return RECOVERED
        return None

    def reset(self):
        """Back to "no data yet" (a new activation)."""
        self.tripped = True
        self.stale = ()
        self.reason = 'no sensor data yet'
