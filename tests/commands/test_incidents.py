"""``operator-tui incidents list|show``: grouped tickets as a table and JSON, missing incidents."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from operator_tui.cli import main
from operator_tui.core.incident import IncidentView, RuleSet
from operator_tui.core.incident_store import IncidentStore
from operator_tui.core.ticket import Ticket
from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import Severity, Violation

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def same_store(ticket: Ticket, incident: IncidentView) -> bool:
    return incident.incident.store_id == ticket.store_id


RULES = RuleSet(cause_of=lambda t: "disk", rules=(same_store,))


async def fill(path: Path) -> None:
    store = await TicketStore.open(path, subject="tikv")
    incidents = IncidentStore(store)
    slow = Violation("slow_store", Severity.CRITICAL, "store 2 slow", 2)
    stall = Violation("write_stall", Severity.CRITICAL, "store 2 stalls", 2)
    disk = Violation("low_disk", Severity.WARNING, "store 1 80% used", 1)
    await store.upsert_violations([slow], {}, T0)
    await incidents.record(RULES, T0)
    await store.upsert_violations([slow, stall, disk], {}, T0 + timedelta(seconds=2))
    await incidents.record(RULES, T0 + timedelta(seconds=2))
    await store.upsert_violations([slow, stall], {}, T0 + timedelta(seconds=4))  # disk resolves
    await incidents.record(RULES, T0 + timedelta(seconds=4))
    diag = await store.start_diagnosis(1, "offline", None, now=T0 + timedelta(seconds=1))
    await store.finish_diagnosis(
        diag, {"root_cause_class": "slow_disk"}, text="store 2's disk is slow\n"
    )
    await store.aclose()


def test_list_json(tmp_path: Path, capsys) -> None:
    db = tmp_path / "t.db"
    asyncio.run(fill(db))
    assert main(["--db", str(db), "incidents", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["id"], row["target"], row["cause"], row["tickets"]) == (
        1,
        "store-2",
        "disk",
        [1, 2],
    )
    assert row["status"] == "open" and row["open_tickets"] == 2 and row["severity"] == "critical"
    assert row["opened_at"] == "2026-05-01T08:00:00Z" and row["resolved_at"] is None
    assert main(["--db", str(db), "incidents", "list", "--json", "--all"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"], r["tickets"]) for r in rows] == [
        (1, "open", [1, 2]),
        (2, "resolved", [3]),
    ]


def test_show_json_and_table(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    db = tmp_path / "t.db"
    asyncio.run(fill(db))
    assert main(["--db", str(db), "incidents", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [t["invariant"] for t in shown["tickets"]] == ["slow_store", "write_stall"]
    assert shown["diagnosis"]["result"] == {"root_cause_class": "slow_disk"}
    kinds = [(e["kind"], e.get("ticket_id")) for e in shown["timeline"]]
    assert kinds[:2] == [("incident.opened", None), ("opened", 1)]
    assert ("incident.joined", None) in kinds and ("opened", 2) in kinds
    assert [e["ts"] for e in shown["timeline"]] == sorted(e["ts"] for e in shown["timeline"])
    assert main(["--db", str(db), "incidents", "list", "--all"]) == 0
    out = capsys.readouterr().out
    assert "store-2" in out and "2/2 open" in out and "0/1 open" in out
    assert main(["--db", str(db), "incidents", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert "Incident #1" in out and "write_stall" in out and "store 2's disk is slow" in out


def test_missing(tmp_path: Path, capsys) -> None:
    db = tmp_path / "none.db"
    assert main(["--db", str(db), "incidents", "list", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert main(["--db", str(db), "incidents", "show", "1"]) == 2
    asyncio.run(fill(db))
    assert main(["--db", str(db), "incidents", "show", "9"]) == 2
    assert "no incident 9" in capsys.readouterr().err


HOSTILE = "[/][bold red]R[link=file:///etc/passwd]x[/link]\x1b]0;pwned\x07\x1b[2J\u202e"


async def fill_hostile(path: Path) -> None:
    store = await TicketStore.open(path, subject="tikv")
    incidents = IncidentStore(store)
    await store.upsert_violations(
        [Violation("slow_store", Severity.CRITICAL, f"store 2 at {HOSTILE}", 2)], {}, T0
    )
    await incidents.record(RULES, T0)
    diag = await store.start_diagnosis(1, "offline", None, now=T0)
    await store.finish_diagnosis(diag, {}, text=f"[evil]({HOSTILE}) {HOSTILE}\n")
    await store.fail_diagnosis(
        await store.start_diagnosis(1, "offline", None, now=T0), HOSTILE, final=False
    )
    await store.aclose()


def test_hostile_stored_text_prints_as_plain_text(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    db = tmp_path / "t.db"
    asyncio.run(fill_hostile(db))
    for command in (["incidents", "list"], ["incidents", "show", "1"]):
        assert main(["--db", str(db), *command]) == 0
        out = capsys.readouterr().out
        assert "\x1b]0;pwned" not in out and "\x1b[2J" not in out and "\u202e" not in out
        assert "\x1b]8;" not in out
    assert "[/][bold red]R[link=file:///etc/passwd]x[/link]" in out
