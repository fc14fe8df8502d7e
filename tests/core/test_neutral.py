"""Core knows no TiKV: no TiKV, PD, region, Raft or RocksDB word in core's code or docstrings.

What the diagnosis needs to know about a subject (its causes, the figures worth
comparing, notes for the model, its offline rules) comes through the plugin and
``SubjectConfig``. The allow-lists are short and say why; a file on the pending
list that no longer needs to be there fails the test, so the list only shrinks.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "operator_tui" / "core"

TIKV_WORDS = re.compile(
    r"tikv|tiflash|\bpd\b|pd_|region|raft|rocksdb|leader|schedule_limit|compaction",
    re.IGNORECASE,
)

# Spellings that may stay, with the reason.
ALLOWED = {
    "hot_write_regions": "Snapshot.hot_write_regions (core/types.py) is passed to a diagnoser as "
    "telemetry; core reads only its store ids and flow, never a TiKV meaning",
    "hot write regions": "the system prompt names that telemetry block",
    "HotRegion": "the type of those entries (core/types.py)",
    "hot_regions": "the context's copy of those entries",
}

# Core files other parts of issue 13 are still emptying of TiKV knowledge.
PENDING: dict[str, str] = {}


def _names_tikv(line: str) -> bool:
    for allowed in ALLOWED:
        line = line.replace(allowed, "")
    return TIKV_WORDS.search(line) is not None


def _hits(path: Path) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _names_tikv(line)
    ]


def test_core_code_names_no_tikv() -> None:
    hits = [
        hit
        for path in sorted(CORE.rglob("*.py"))
        if str(path.relative_to(CORE)) not in PENDING
        for hit in _hits(path)
    ]
    assert not hits, "TiKV knowledge in core:\n" + "\n".join(hits)


def test_pending_list_only_names_files_that_still_need_it() -> None:
    stale = [name for name in PENDING if not (CORE / name).is_file() or not _hits(CORE / name)]
    assert not stale, f"no longer pending, remove from PENDING: {stale}"


def test_the_check_sees_tikv_words() -> None:
    for line in (
        "x = snapshot.cluster.pd_leader",
        "# the Raft log falls behind",
        "region_id = 4",
        '"TiKV store"',
        "the PD leader",
        "set_leader_schedule_limit",
    ):
        assert _names_tikv(line), line
    for line in ("hot = snapshot.hot_write_regions", "store.health.level", "FixedRateSchedule"):
        assert not _names_tikv(line), line
