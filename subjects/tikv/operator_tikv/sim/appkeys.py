"""The aiohttp keys: where both apps find their ``SimCluster``, and a status request its store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from operator_tikv.sim.cluster import SimCluster
    from operator_tikv.sim.store import Store

SIM_KEY: web.AppKey[SimCluster] = web.AppKey("sim")
STORE_KEY: web.RequestKey[Store] = web.RequestKey("store")
