"""TiKV invariants: what must hold, how urgent it is when it does not, and for how long first.

Each check (``check.py`` says how one is declared) turns a snapshot into findings
keyed ``invariant:target``; core's ``GraceTracker`` makes a finding a violation
once it has held for its grace period, measured on ``Snapshot.taken_at``. A key
whose signal was not measured this tick (a failed endpoint, a first scrape
without rates) keeps its timer, and if it was firing it is reported again as it
was (``details["stale"] = True``); a key whose condition is false is cleared.
Checks live by what they watch: ``stores``, ``latency``, ``capacity``,
``regions``, ``pd``; their names are in ``names``.
"""

from operator_tikv.invariants.check import Check, ClusterTick, Report, StoreTick
from operator_tikv.invariants.checker import CHECKS, InvariantChecker, specs
from operator_tikv.invariants.names import HOT_WRITE, PD_HEALTH, PD_MEMBERS, REGION_CHECKS
from operator_tikv.invariants.reachability import CutOff, cut_off_stores
from operator_tikv.invariants.settings import InvariantSettings, MiB

__all__ = [
    "CHECKS",
    "HOT_WRITE",
    "PD_HEALTH",
    "PD_MEMBERS",
    "REGION_CHECKS",
    "Check",
    "ClusterTick",
    "CutOff",
    "InvariantChecker",
    "InvariantSettings",
    "MiB",
    "Report",
    "StoreTick",
    "cut_off_stores",
    "specs",
]
