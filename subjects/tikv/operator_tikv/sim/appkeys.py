"""The aiohttp keys: where both apps find their ``SimCluster``, and a status request its store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from operator_tikv.sim.cluster import SimCluster
    from operator_tikv.sim.model import Cluster
    from operator_tikv.sim.store import Store

SIM_KEY: web.AppKey[SimCluster] = web.AppKey("sim")
STORE_KEY: web.RequestKey[Store] = web.RequestKey("store")


def sim_of(request: web.Request) -> SimCluster:
    return request.app[SIM_KEY]


def model_of(request: web.Request) -> Cluster:
    """The running model; the PD middleware answers 503 before any handler while it is absent."""
    model = sim_of(request).model
    assert model is not None
    return model
