"""The TiKV harness: the simulated cluster the evaluation drives, its faults and endpoints."""

from __future__ import annotations

import httpx
import pytest
from operator_tikv.harness import TikvHarness
from operator_tikv.plugin import plugin

from operator_tui.core.harness import HarnessError, HarnessOptions, SimHarness


def _harness(**params) -> TikvHarness:
    return TikvHarness(HarnessOptions(seed=3, params=params))


async def test_disturbances_take_effect_and_clear() -> None:
    async with _harness() as h:
        await h.advance(5)
        assert h.cluster.model is not None
        config = h.cluster.model.config
        base = config.qps_per_store
        spike = await h.add_fault("load_spike", params={"factor": 2.5})
        assert config.qps_per_store == pytest.approx(base * 2.5)
        await h.clear_fault(spike)
        assert config.qps_per_store == pytest.approx(base)
        before = await h.leaders()
        counts = {sid: sum(1 for _r, s in before if s == sid) for _r, sid in before}
        busiest = max(counts, key=lambda sid: (counts[sid], -sid))
        moved_id = await h.add_fault("transfer_leaders", params={"count": 4})
        await h.advance(30)
        after = await h.leaders()
        await h.clear_fault(moved_id)  # operators already ran: nothing to undo, no error
        moved = {rid for rid, sid in before if sid == busiest} - {
            rid for rid, sid in after if sid == busiest
        }
        assert len(moved) >= 4


async def test_store_faults_by_their_scenario_names() -> None:
    async with _harness() as h, httpx.AsyncClient() as http:
        await h.advance(5)
        killed = await h.add_fault("kill", 2)
        with pytest.raises(httpx.ConnectError):
            await http.get(h.endpoints().stores[2] + "/status")
        await h.clear_fault(killed)
        assert (await http.get(h.endpoints().stores[2] + "/status")).status_code == 200
        hot = await h.add_fault("hot_region", 1)
        region = next(f for f in h.cluster.list_faults() if f["id"] == hot)
        assert dict(await h.leaders())[region["params"]["region_id"]] == 1
        await h.clear_fault(hot)
        assert h.cluster.list_faults() == []
        with pytest.raises(HarnessError, match="no region has its leader on store 9"):
            await h.add_fault("hot_region", 9)


async def test_plugin_offers_it_with_the_settings_the_subject_needs() -> None:
    harness = plugin.harness(HarnessOptions(stores=4, params={"regions": 40}))
    assert isinstance(harness, SimHarness)
    async with harness:
        ends = harness.endpoints()
        assert len(ends.api) == 3 and sorted(ends.stores) == [1, 2, 3, 4]
        assert sorted(ends.scrape) == ["pd", "tikv"] and len(ends.scrape["tikv"]) == 4
        assert harness.subject_settings() == {
            "pd": list(ends.api),
            "prometheus_url": None,
            "log_source": "http",
            "log_url": [f"{url}/sim/api/v1/stores/{{store_id}}/logs" for url in ends.api],
        }
        start = harness.now_ns()
        await harness.advance(2.5)
        assert harness.now_ns() - start == 2_500_000_000


def test_unknown_simulator_setting_is_refused() -> None:
    with pytest.raises(HarnessError, match="unknown simulator setting 'colour'"):
        _harness(colour="blue")


async def test_log_lines_land_in_the_store_log_with_its_timestamp() -> None:
    async with _harness(regions=20) as h:
        line = '[{ts}] [FATAL] [lib.rs:1] ["sst corrupted"] [thread_id=1]'
        await h.add_fault("log_lines", 2, {"lines": [line]})
        [last] = h.cluster.model.stores[2].log.since(None, 1)
        assert last.endswith('[FATAL] [lib.rs:1] ["sst corrupted"] [thread_id=1]')
        assert "{ts}" not in last and last.startswith("[20")
        with pytest.raises(HarnessError):
            await h.add_fault("log_lines", 9, {"lines": [line]})
        with pytest.raises(HarnessError):
            await h.add_fault("log_lines", 2, {"lines": "not a list"})


async def test_transfer_leaders_targets_only_stores_holding_a_voter() -> None:
    """With 5 stores and 3 replicas, a round-robin target is often not a voter: PD refuses."""
    async with TikvHarness(HarnessOptions(stores=5, seed=4, params={"regions": 30})) as h:
        await h.advance(3)
        before = dict(await h.leaders())
        await h.add_fault("transfer_leaders", None, {"count": 5})
        await h.advance(5)
        after = dict(await h.leaders())
        assert sum(1 for rid in before if before[rid] != after.get(rid)) >= 1
