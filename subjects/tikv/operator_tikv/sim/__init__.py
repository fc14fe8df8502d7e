"""A simulated TiKV cluster that speaks PD's HTTP API, TiKV's metrics and TiKV's logs.

``SimCluster(SimConfig(...))`` serves three PD members and one status port per
store on loopback; ``operator_tikv.sim.cli`` runs it standalone and
``operator_tikv.sim.demo.run_demo`` embeds it for ``operator-tui --demo``.
"""

from operator_tikv.sim.cluster import SimCluster
from operator_tikv.sim.config import SimConfig
from operator_tikv.sim.errors import SimError

__all__ = ["SimCluster", "SimConfig", "SimError"]
