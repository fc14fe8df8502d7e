"""Flight-recording size per hour: 3 stores at a 2 s interval (and that hour times 24), and
100 stores.

Each run records a simulated cluster with the manual clock (a scenario with no fault, so
every tick is recorded as fast as the simulator answers) and prints the file's bytes per
recorded hour. The 24 h figure is the measured hour times 24, said so in its line. Targets
(issue 18): 3 stores @2 s for 24 h <= 200 MB; 100 stores for 1 h <= 500 MB.

    uv run python benchmarks/recording_size.py [--minutes 60] [--big-minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from operator_tui.config import load_settings
from operator_tui.evaluation.runner import RunOptions, run_scenario
from operator_tui.evaluation.scenario import Scenario

MB = 1_000_000


async def measure(stores: int, minutes: float, tmp: Path) -> tuple[float, int, float]:
    scenario = Scenario.model_validate(
        {
            "name": f"size-{stores}",
            "duration": minutes * 60,
            "warmup": 0,
            "sim": {"stores": stores, "regions": max(100, stores * 30)},
            "expect": {"max_incidents": 100},
        }
    )
    out = tmp / f"{stores}.opr"
    started = time.perf_counter()
    outcome = await run_scenario(
        scenario, load_settings(None), RunOptions(record=out, scenario_wall_timeout_s=3600)
    )
    if outcome.error:
        raise SystemExit(f"run failed: {outcome.error}")
    size = await asyncio.to_thread(lambda: out.stat().st_size)
    return size / (minutes / 60), outcome.ticks, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0, help="simulated minutes, 3 stores")
    parser.add_argument(
        "--big-minutes", type=float, default=10.0, help="simulated minutes, 100 stores"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        per_hour, ticks, wall = await measure(3, args.minutes, Path(tmp))
        print(
            f"3 stores @2 s: {per_hour / MB:.1f} MB per hour measured over {args.minutes:g} "
            f"simulated min ({ticks} ticks, {wall:.0f} s wall); 24 h extrapolated: "
            f"{per_hour * 24 / MB:.0f} MB (target <= 200 MB)"
        )
        per_hour, ticks, wall = await measure(100, args.big_minutes, Path(tmp))
        print(
            f"100 stores @2 s: {per_hour / MB:.1f} MB per hour, extrapolated from "
            f"{args.big_minutes:g} simulated min ({ticks} ticks, {wall:.0f} s wall) "
            f"(target <= 500 MB)"
        )


if __name__ == "__main__":
    asyncio.run(main())
