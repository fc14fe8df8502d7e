"""A recording made in the real-cluster layout (PD, a real Prometheus, store logs read from
files) replays with the incidents it recorded, and ``--rediagnose`` opens the same ones."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from operator_tikv.sim import SimCluster
from operator_tikv.sim.config import SimConfig

from operator_tui.bootstrap import open_replay, open_runtime
from operator_tui.config import load_settings
from operator_tui.core.recording import Recording

pytestmark = pytest.mark.prometheus


def _opened(pairs: list[tuple[str, dict]]) -> list[tuple[str, str]]:
    return [
        (d["incident"]["target"], d["incident"]["cause"])
        for k, d in pairs
        if k == "incident.opened"
    ]


async def _replayed(settings, path: Path, rediagnose: bool) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    async with open_replay(settings, path, rediagnose=rediagnose, checkpoints=False) as rt:
        sub = rt.bus.subscribe()
        for _ in range(len(rt.recording) + 1):
            if not await rt.step():
                break
        out = []
        while not sub.queue.empty():
            ev = sub.queue.get_nowait()
            out.append((ev.event, json.loads(json.dumps(ev.data, default=str))))
        return out


async def test_real_layout_recording_replays_and_rediagnoses_alike(tk, tmp_path, monkeypatch):
    binary = tk.prometheus_binary()
    logs = tmp_path / "logs"
    out = tmp_path / "real-layout.opr"
    (tmp_path / "prometheus").mkdir()
    async with SimCluster(SimConfig(stores=3, regions=30, seed=7, log_dir=logs)) as sim:
        server = tk.PrometheusServer(
            binary, tmp_path / "prometheus", {"tikv": sim.prometheus_targets()["tikv"]}
        )
        await server.start()
        try:
            for name, value in {
                "OPERATOR_TIKV__PD": ",".join(sim.pd_urls),
                "OPERATOR_TIKV__PROMETHEUS_URL": server.url,
                "OPERATOR_TIKV__METRICS_SOURCE": "prometheus",
                "OPERATOR_TIKV__PROMETHEUS_RATE_WINDOW": "30s",
                "OPERATOR_TIKV__LOG_SOURCE": "file",
                "OPERATOR_TIKV__LOG_DIR": str(logs),
                "OPERATOR_DB_PATH": str(tmp_path / "tickets.db"),
            }.items():
                monkeypatch.setenv(name, value)
            settings = load_settings(None)
            async with open_runtime(settings, record=out) as rt:
                sub = rt.bus.subscribe()
                agent = asyncio.create_task(rt.run_agent())
                try:

                    async def measured() -> bool:
                        snap = await rt.tick_once()
                        return snap is not None and all(m.qps for m in snap.store_metrics.values())

                    assert await tk.wait_until(measured, within=30, interval=0.5)
                    await sim.kill_store(2)

                    async def diagnosed() -> bool:
                        await rt.tick_once()
                        incidents = await rt.list_incidents()
                        return any(
                            i.target == "store-2" and i.status.value == "diagnosed"
                            for i in incidents
                        )

                    assert await tk.wait_until(diagnosed, within=60, interval=0.5)
                    for _ in range(3):
                        await rt.tick_once()
                        await asyncio.sleep(0.3)
                finally:
                    agent.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await agent
                live = []
                while not sub.queue.empty():
                    ev = sub.queue.get_nowait()
                    live.append((ev.event, ev.data))
        finally:
            await server.stop()

    recording = Recording(out)
    try:
        snapshots = [t.snapshot for t in recording.ticks() if t.snapshot is not None]
        sources = {s.source for s in snapshots}
        logged = {e.store_id for s in snapshots for e in s.log_events}
        recorded = [(e.kind, e.data) for e in recording.events()]
        section = recording.meta["subject_settings"]
    finally:
        recording.close()
    assert sources == {"pd+prometheus"}
    assert logged & {1, 3}, "the survivors' log files were read"
    assert section["metrics_source"] == "prometheus" and section["log_dir"] == str(logs)
    live_opened = _opened(json.loads(json.dumps(live, default=str)))
    assert ("store-2", "store_lost") in live_opened
    assert _opened(recorded) == live_opened
    assert _opened(await _replayed(settings, out, rediagnose=False)) == live_opened
    assert _opened(await _replayed(settings, out, rediagnose=True)) == live_opened
