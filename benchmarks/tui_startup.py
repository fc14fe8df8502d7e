"""Start-up of the full-screen app: process start to first paint, and to the first tick on screen.

Each run is a fresh interpreter (``python -c``) that imports the app and runs it
headless at 120x40 with ``--demo``'s embedded simulated cluster. ``first
paint`` is when Textual hands the pilot a drawn screen (header, empty panes);
``first data`` is when the stores table shows the demo's stores (the
simulator started, one tick observed and drawn). Both are measured from the
moment the parent starts the process, so they include interpreter start and
imports.

    uv run python benchmarks/tui_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, sys, time, asyncio
from pathlib import Path
t_import = time.time()
from operator_tui.config import load_settings
from operator_tui.core.subject import DemoOptions
from operator_tui.tui.app import OperatorApp
from operator_tui.tui.widgets.stores import StoresTable
imported = time.time()
marks = {"imported": imported}
app = OperatorApp(load_settings(db_path=Path(sys.argv[1]) / "t.db", diagnosis_backend="offline", interval_s=1.0), DemoOptions())

async def pilot_run(pilot):
    marks["first_paint"] = time.time()
    table = app.query_one(StoresTable)
    for _ in range(600):
        if table.row_count >= 3:
            break
        await asyncio.sleep(0.01)
    await pilot.pause()
    marks["first_data"] = time.time()
    await app.action_quit()

app.run(headless=True, size=(120, 40), auto_pilot=pilot_run)
sys.__stdout__.write(json.dumps(marks) + "\n")
"""


def one_run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.time()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, tmp],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    marks = json.loads(out.stdout.strip().splitlines()[-1])
    return {name: (value - started) * 1000 for name, value in marks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    print(
        f"operator-tui --demo start-up, {args.runs} fresh processes, 120x40 headless (ms from process start)"
    )
    for name in ("imported", "first_paint", "first_data"):
        values = sorted(r[name] for r in runs)
        print(
            f"{name:<12} median {statistics.median(values):7.0f}   min {values[0]:7.0f}   max {values[-1]:7.0f}"
        )


if __name__ == "__main__":
    main()
