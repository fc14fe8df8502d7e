"""``operator-tui tickets list|show``: read the ticket database (``--db`` / ``OPERATOR_DB_PATH``).

``list --json`` prints one JSON array of ticket objects (``id``, ``invariant``,
``store_id``, ``target``, ``severity``, ``status``, ``message``,
``occurrences``, ``first_seen``, ``last_seen``, ``resolved_at``,
``previous_ticket_id``, ``diagnosis_failed``); without ``--all`` only
unresolved tickets. ``show ID --json`` prints one object: the ticket (with
its snapshot), ``diagnosis`` (latest record, or null) and ``events``.
Exit 0; 2 when the database cannot be read or the ticket does not exist.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from operator_tui.commands.database import fail, missing
from operator_tui.config import Settings
from operator_tui.core.text import plain
from operator_tui.core.ticket import DiagnosisRecord, Ticket, TicketEvent
from operator_tui.core.tickets import TicketStore, TicketStoreError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tickets", help="list or show tickets from the ticket database")
    verbs = p.add_subparsers(dest="tickets_command", metavar="list|show", required=True)
    ls = verbs.add_parser("list", help="list tickets (unresolved unless --all)")
    ls.add_argument("--json", action="store_true", help="print one JSON array")
    ls.add_argument("--all", action="store_true", help="include resolved tickets")
    ls.add_argument("--limit", type=int, default=500, help="at most this many (default 500)")
    show = verbs.add_parser("show", help="show one ticket with its diagnosis and history")
    show.add_argument("id", type=int, metavar="ID")
    show.add_argument("--json", action="store_true", help="print one JSON object")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def ticket_json(t: Ticket, *, snapshot: bool = False) -> dict[str, Any]:
    out = {
        **t.summary(),
        "violation_key": t.violation_key,
        "subject": t.subject,
        "first_seen": _iso(t.first_seen),
        "last_seen": _iso(t.last_seen),
        "resolved_at": _iso(t.resolved_at),
        "previous_ticket_id": t.previous_ticket_id,
        "diagnosis_failed": t.diagnosis_failed,
    }
    if snapshot:
        out["snapshot"] = t.snapshot
    return out


def diagnosis_json(d: DiagnosisRecord | None) -> dict[str, Any] | None:
    if d is None:
        return None
    out = asdict(d)
    out["started_at"], out["finished_at"] = _iso(d.started_at), _iso(d.finished_at)
    return out


def event_json(e: TicketEvent) -> dict[str, Any]:
    return {"ts": _iso(e.ts), "kind": e.kind, **({"detail": e.detail} if e.detail else {})}


async def _list(path: Path, include_resolved: bool, limit: int) -> list[Ticket]:
    store = await TicketStore.open(path)
    try:
        return await store.list_tickets(include_resolved=include_resolved, limit=limit)
    finally:
        await store.aclose()


async def _show(
    path: Path, ticket_id: int
) -> tuple[Ticket | None, DiagnosisRecord | None, list[TicketEvent]]:
    store = await TicketStore.open(path)
    try:
        ticket = await store.get_ticket(ticket_id)
        if ticket is None:
            return None, None, []
        return ticket, await store.latest_diagnosis(ticket_id), await store.events(ticket_id)
    finally:
        await store.aclose()


def run(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.storage.db_path
    absent = missing(path, listing=args.tickets_command == "list", as_json=args.json)
    if absent is not None:
        return absent
    try:
        if args.tickets_command == "list":
            tickets = asyncio.run(_list(path, args.all, args.limit))
            return _print_list(tickets, args.json)
        ticket, diagnosis, events = asyncio.run(_show(path, args.id))
    except TicketStoreError as exc:
        return fail(exc)
    if ticket is None:
        return fail(f"no ticket {args.id} in {path}")
    if args.json:
        print(
            json.dumps(
                {
                    "ticket": ticket_json(ticket, snapshot=True),
                    "diagnosis": diagnosis_json(diagnosis),
                    "events": [event_json(e) for e in events],
                },
                default=str,
            )
        )
        return 0
    _print_show(ticket, diagnosis, events)
    return 0


def _print_list(tickets: list[Ticket], as_json: bool) -> int:
    if as_json:
        print(json.dumps([ticket_json(t) for t in tickets], default=str))
        return 0
    table = Table(
        "id", "severity", "status", "invariant", "target", "seen", "first seen", "message"
    )
    for t in tickets:
        table.add_row(
            str(t.id),
            t.severity.value,
            t.status.value + (" (diagnosis failed)" if t.diagnosis_failed else ""),
            Text(plain(t.invariant)),
            Text(plain(t.target)),
            str(t.occurrences),
            t.first_seen.strftime("%Y-%m-%d %H:%M:%S"),
            Text(plain(t.message)),
        )
    Console().print(table)
    return 0


def _print_show(
    ticket: Ticket, diagnosis: DiagnosisRecord | None, events: list[TicketEvent]
) -> None:
    console = Console()
    console.print(
        Text.assemble(
            (f"Ticket #{ticket.id}", "bold"),
            f" {plain(ticket.invariant)} on {plain(ticket.target)}: {ticket.status.value}",
        )
    )
    console.print(
        f"severity {ticket.severity.value}, seen {ticket.occurrences}x, "
        f"first {_iso(ticket.first_seen)}, last {_iso(ticket.last_seen)}"
        + (f", resolved {_iso(ticket.resolved_at)}" if ticket.resolved_at else "")
    )
    console.print(Text(plain(ticket.message, multiline=True, limit=None)))
    if diagnosis is not None:
        model = f", {diagnosis.model}" if diagnosis.model else ""
        console.rule(Text(plain(f"diagnosis #{diagnosis.id} ({diagnosis.backend}{model})")))
        if diagnosis.text:
            text = plain(diagnosis.text, multiline=True, limit=None)
            console.print(Markdown(text, hyperlinks=False))
        if diagnosis.error:
            console.print(Text.assemble(("failed:", "red"), f" {plain(diagnosis.error)}"))
    console.rule("history")
    for e in events:
        console.print(Text(f"{_iso(e.ts)}  {plain(e.kind)}"))
