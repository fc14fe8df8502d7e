"""``operator-tui tickets list|show``: table and JSON output, missing and corrupt databases."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from operator_tui.cli import main
from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import Severity, Violation

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


async def fill(path: Path) -> int:
    store = await TicketStore.open(path, subject="tikv")
    await store.upsert_violations(
        [
            Violation("store_down", Severity.CRITICAL, "store 1 down", 1),
            Violation("low_disk", Severity.WARNING, "80% used", 2),
        ],
        {"stores": []},
        T0,
    )
    changes = await store.upsert_violations(
        [Violation("store_down", Severity.CRITICAL, "store 1 down", 1)], {}, T0
    )
    assert [c for c, _ in changes] == ["resolved"]
    diag = await store.start_diagnosis(1, "offline", None)
    await store.finish_diagnosis(
        diag, {"root_cause_class": "store_down"}, text="## Observation\n\nstore 1 is down\n"
    )
    await store.aclose()
    return 1


def test_list_json(tmp_path: Path, capsys) -> None:
    db = tmp_path / "t.db"
    asyncio.run(fill(db))
    assert main(["--db", str(db), "tickets", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["invariant"], r["status"]) for r in rows] == [
        (1, "store_down", "diagnosed")
    ]
    assert rows[0]["first_seen"] == "2026-05-01T08:00:00Z" and rows[0]["store_id"] == 1
    assert main(["--db", str(db), "tickets", "list", "--json", "--all"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"]) for r in rows] == [(1, "diagnosed"), (2, "resolved")]


def test_list_table_and_show(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    db = tmp_path / "t.db"
    asyncio.run(fill(db))
    assert main(["--db", str(db), "tickets", "list", "--all"]) == 0
    out = capsys.readouterr().out
    assert "store_down" in out and "low_disk" in out
    assert main(["--db", str(db), "tickets", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert "Ticket #1" in out and "store 1 is down" in out and "diagnosis.finished" in out
    assert main(["--db", str(db), "tickets", "show", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ticket"]["snapshot"] == {"stores": []}
    assert data["diagnosis"]["result"] == {"root_cause_class": "store_down"}
    assert [e["kind"] for e in data["events"]] == [
        "opened",
        "diagnosis.started",
        "diagnosis.finished",
    ]


def test_missing_and_bad(tmp_path: Path, capsys) -> None:
    db = tmp_path / "none.db"
    assert main(["--db", str(db), "tickets", "list", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert not db.exists()
    assert main(["--db", str(db), "tickets", "show", "3"]) == 2
    assert "no ticket database" in capsys.readouterr().err
    good = tmp_path / "t.db"
    asyncio.run(fill(good))
    assert main(["--db", str(good), "tickets", "show", "99"]) == 2
    assert "no ticket 99" in capsys.readouterr().err
    bad = tmp_path / "bad.db"
    bad.write_text("garbage" * 50)
    assert main(["--db", str(bad), "tickets", "list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot open ticket database" in err


HOSTILE = "[/][bold red]R[link=file:///etc/passwd]x[/link]\x1b]0;pwned\x07\x1b[2J\u202eevil"


def test_hostile_stored_text_prints_as_plain_text(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")

    async def fill_hostile(path: Path) -> None:
        store = await TicketStore.open(path, subject="tikv")
        await store.upsert_violations(
            [Violation("store_down", Severity.CRITICAL, HOSTILE, 1)], {"stores": []}, T0
        )
        diag = await store.start_diagnosis(1, "claude", HOSTILE)
        await store.finish_diagnosis(
            diag, {"root_cause_class": "store_down"}, text=f"## {HOSTILE}\n\n[l](file:///x)\n"
        )
        await store.aclose()

    db = tmp_path / "t.db"
    asyncio.run(fill_hostile(db))
    for argv in (["tickets", "list"], ["tickets", "show", "1"]):
        assert main(["--db", str(db), *argv]) == 0
        out = capsys.readouterr()
        text = out.out + out.err
        assert "[/][bold red]R[link=file:///etc/passwd]x[/link]" in text, argv
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, argv
