"""``--no-ui --demo`` prints where the demo cluster answers on stderr; stdout stays JSON lines."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from operator_tui.config import load_settings
from operator_tui.core.subject import DemoOptions
from operator_tui.headless import run_headless

pytest.importorskip("operator_tikv.sim")


async def test_demo_prints_its_endpoints_on_stderr(tmp_path: Path) -> None:
    settings = load_settings(db_path=tmp_path / "t.db", interval_s=1.0, diagnosis_backend="offline")
    out, err, stop = io.StringIO(), io.StringIO(), asyncio.Event()

    async def stop_soon() -> None:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if "simulator control" in err.getvalue():
                break
        stop.set()

    stopper = asyncio.create_task(stop_soon())
    code = await run_headless(settings, demo=DemoOptions(), out=out, err=err, stop=stop)
    await stopper
    assert code == 0
    lines = err.getvalue().splitlines()
    names = {line.split(": ")[1] for line in lines}
    assert {"PD API", "PD metrics", "simulator control"} <= names
    assert any(n.startswith("store ") and n.endswith(" metrics") for n in names)
    for line in out.getvalue().splitlines():
        json.loads(line)
    assert all(line.split(": ", 2)[2].startswith("http://127.0.0.1:") for line in lines)
