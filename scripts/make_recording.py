"""Record a scenario run against the simulator (manual clock) to a flight-recorder file.

    uv run python scripts/make_recording.py \
        subjects/tikv/operator_tikv/recordings/kill-and-slow-disk.toml \
        subjects/tikv/operator_tikv/recordings/kill-and-slow-disk.opr

The file is compacted (VACUUM) so the checked-in recording stays small.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

from operator_tui.config import load_settings
from operator_tui.evaluation.runner import RunOptions, run_scenario
from operator_tui.evaluation.scenario import load_scenario
from operator_tui.evaluation.scoring import score_run


def compact(out: Path) -> None:
    db = sqlite3.connect(out)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("VACUUM")
    db.close()


async def main(scenario_path: Path, out: Path) -> int:
    scenario = load_scenario(scenario_path)
    await asyncio.to_thread(out.unlink, True)
    outcome = await run_scenario(scenario, load_settings(None), RunOptions(record=out))
    score = score_run(scenario, outcome)
    await asyncio.to_thread(compact, out)
    size = (await asyncio.to_thread(out.stat)).st_size
    print(f"{out}: {size} bytes, {outcome.ticks} ticks, passed={score.passed}")
    return 0 if outcome.error is None else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]))))
