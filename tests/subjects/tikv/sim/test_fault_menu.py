"""The fault menu the subject declares, driven through ``SimChaos`` against a live simulator:
every declared kind is one the simulator accepts with the declared defaults, clears, and the
endpoints and the simulator probe answer as a front end reads them."""

from __future__ import annotations

import httpx
import pytest
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings
from operator_tikv.sim.demo import SimChaos, find_simulator
from operator_tikv.sim.fault_menu import FAULT_MENU
from operator_tikv.sim.faults import FAULT_KINDS

from operator_tui.core.faults import FaultControl, FindsSimulator
from operator_tui.core.subject import SubjectError


def test_the_menu_names_only_kinds_the_simulator_knows() -> None:
    names = [k.name for k in FAULT_MENU]
    assert len(names) == len(set(names))
    assert set(names) <= set(FAULT_KINDS)
    for wanted in ("kill_store", "pause_store", "partition_store", "slow_disk"):
        assert wanted in names
    for wanted in ("disk_pressure", "hot_region", "write_stall", "kill_pd_leader"):
        assert wanted in names


@pytest.mark.parametrize("kind", FAULT_MENU, ids=lambda k: k.name)
async def test_each_kind_injects_with_its_defaults_and_clears(sim, kind) -> None:
    chaos = SimChaos(sim.pd_urls)
    try:
        assert isinstance(chaos, FaultControl)
        params = {p.name: p.default for p in kind.params}
        store = 2 if kind.needs_store else None
        fault = await chaos.inject_fault(kind.name, store, params)
        assert fault.kind == kind.name and fault.store_id == store
        assert [f.id for f in await chaos.active_faults()] == [fault.id]
        for p in kind.params:
            if p.default is not None:
                assert fault.params[p.name] == p.default
        cleared = await chaos.clear_fault(fault.id)
        assert cleared.id == fault.id
        assert await chaos.active_faults() == []
    finally:
        await chaos.aclose()


async def test_a_refused_fault_is_the_simulators_own_message(sim) -> None:
    chaos = SimChaos(sim.pd_urls)
    try:
        with pytest.raises(SubjectError, match="latency_ms must be positive"):
            await chaos.inject_fault("slow_disk", 1, {"latency_ms": -1.0})
        with pytest.raises(SubjectError, match="needs a store_id"):
            await chaos.inject_fault("slow_disk", None, {})
    finally:
        await chaos.aclose()


async def test_endpoints_name_pd_metrics_and_control(sim) -> None:
    chaos = SimChaos(sim.pd_urls)
    try:
        endpoints = await chaos.endpoints()
    finally:
        await chaos.aclose()
    urls = [e.url for e in endpoints]
    assert f"{sim.pd_urls[0]}/pd/api/v1" in urls
    assert f"{sim.pd_urls[0]}/metrics" in urls
    assert f"{sim.pd_urls[0]}/sim/api/v1" in urls
    for sid, url in sim.store_status_urls.items():
        assert f"{url}/metrics" in urls
        assert any(e.name == f"store {sid} metrics" for e in endpoints)
    async with httpx.AsyncClient(timeout=5) as http:
        for url in urls:
            if url.endswith("/metrics"):
                assert (await http.get(url)).status_code == 200


async def test_the_plugin_finds_a_simulator_behind_pd_and_not_elsewhere(sim) -> None:
    assert isinstance(plugin, FindsSimulator)
    async with httpx.AsyncClient(timeout=5) as http:
        found = await plugin.simulator(TikvSettings(pd=list(sim.pd_urls)), http)
        assert isinstance(found, SimChaos)
        assert "store 1 killed" in await found.kill_store(1)
        # the first store status port is no simulator control API (404 there)
        status = next(iter(sim.store_status_urls.values()))
        assert await find_simulator([status], http) is None
        assert await find_simulator(["http://127.0.0.1:9"], http) is None
