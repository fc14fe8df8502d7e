"""The aiohttp application key under which both apps find their ``SimCluster``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from operator_tikv.sim.cluster import SimCluster

SIM_KEY: web.AppKey[SimCluster] = web.AppKey("sim")
