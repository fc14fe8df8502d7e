"""``operator-tui incidents list|show``: the incidents in the ticket database (``--db``).

``list --json`` prints one JSON array of incident objects (the headless events'
``incident`` fields plus ``subject``, ``opened_at``, ``updated_at``,
``resolved_at``); without ``--all`` only unresolved incidents. ``show ID --json``
prints one object: ``incident``, its ``tickets``, ``diagnosis`` (the latest of its
lead ticket, or null) and ``timeline`` (the incident's events and its tickets',
oldest first, each with ``ticket_id`` when it is a ticket's). Exit 0; 2 when the
database cannot be read or the incident does not exist.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from operator_tui.commands.database import fail, missing
from operator_tui.commands.tickets import _iso, diagnosis_json, ticket_json
from operator_tui.config import Settings
from operator_tui.core.incident import Incident
from operator_tui.core.incident_store import IncidentStore
from operator_tui.core.text import plain
from operator_tui.core.ticket import DiagnosisRecord, Ticket
from operator_tui.core.tickets import TicketStore, TicketStoreError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("incidents", help="list or show incidents (tickets grouped by cause)")
    verbs = p.add_subparsers(dest="incidents_command", metavar="list|show", required=True)
    ls = verbs.add_parser("list", help="list incidents (unresolved unless --all)")
    ls.add_argument("--json", action="store_true", help="print one JSON array")
    ls.add_argument("--all", action="store_true", help="include resolved incidents")
    ls.add_argument("--limit", type=int, default=500, help="at most this many (default 500)")
    show = verbs.add_parser("show", help="show one incident: its tickets, timeline, diagnosis")
    show.add_argument("id", type=int, metavar="ID")
    show.add_argument("--json", action="store_true", help="print one JSON object")


def incident_json(i: Incident) -> dict[str, Any]:
    return {
        **i.summary(),
        "subject": i.subject,
        "opened_at": _iso(i.opened_at),
        "updated_at": _iso(i.updated_at),
        "resolved_at": _iso(i.resolved_at),
    }


@dataclass(slots=True)
class IncidentDetail:
    """One incident with what ``show`` prints of it."""

    incident: Incident
    tickets: list[Ticket] = field(default_factory=list)
    diagnosis: DiagnosisRecord | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)


async def load_detail(tickets: TicketStore, incident_id: int) -> IncidentDetail | None:
    incidents = IncidentStore(tickets)
    incident = await incidents.get_incident(incident_id)
    if incident is None:
        return None
    members = await incidents.incident_tickets(incident_id)
    timeline: list[tuple[Any, int, dict[str, Any]]] = []
    for e in await incidents.events(incident_id):
        timeline.append(
            (e.ts, 0, {"ts": _iso(e.ts), "kind": f"incident.{e.kind}", **_detail(e.detail)})
        )
    for t in members:
        for e in await tickets.events(t.id):
            entry = {"ts": _iso(e.ts), "kind": e.kind, "ticket_id": t.id, **_detail(e.detail)}
            timeline.append((e.ts, 1, entry))
    timeline.sort(key=lambda item: (item[0], item[1]))
    return IncidentDetail(
        incident=incident,
        tickets=members,
        diagnosis=await tickets.latest_diagnosis(incident.lead_ticket_id),
        timeline=[entry for _, _, entry in timeline],
    )


def _detail(detail: dict[str, Any]) -> dict[str, Any]:
    return {"detail": detail} if detail else {}


async def _list(path: Path, include_resolved: bool, limit: int) -> list[Incident]:
    store = await TicketStore.open(path)
    try:
        return await IncidentStore(store).list_incidents(
            include_resolved=include_resolved, limit=limit
        )
    finally:
        await store.aclose()


async def _show(path: Path, incident_id: int) -> IncidentDetail | None:
    store = await TicketStore.open(path)
    try:
        return await load_detail(store, incident_id)
    finally:
        await store.aclose()


def run(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.storage.db_path
    absent = missing(path, listing=args.incidents_command == "list", as_json=args.json)
    if absent is not None:
        return absent
    try:
        if args.incidents_command == "list":
            incidents = asyncio.run(_list(path, args.all, args.limit))
            return _print_list(incidents, args.json)
        detail = asyncio.run(_show(path, args.id))
    except TicketStoreError as exc:
        return fail(exc)
    if detail is None:
        return fail(f"no incident {args.id} in {path}")
    if args.json:
        print(
            json.dumps(
                {
                    "incident": incident_json(detail.incident),
                    "tickets": [ticket_json(t) for t in detail.tickets],
                    "diagnosis": diagnosis_json(detail.diagnosis),
                    "timeline": detail.timeline,
                },
                default=str,
            )
        )
        return 0
    _print_show(detail)
    return 0


def _print_list(incidents: list[Incident], as_json: bool) -> int:
    if as_json:
        print(json.dumps([incident_json(i) for i in incidents], default=str))
        return 0
    table = Table("id", "severity", "status", "cause", "target", "tickets", "opened", "title")
    for i in incidents:
        table.add_row(
            str(i.id),
            i.severity.value,
            i.status.value,
            Text(plain(i.cause)),
            Text(plain(i.target)),
            f"{i.open_tickets}/{len(i.ticket_ids)} open",
            i.opened_at.strftime("%Y-%m-%d %H:%M:%S"),
            Text(plain(i.title)),
        )
    Console().print(table)
    return 0


def _print_show(detail: IncidentDetail) -> None:
    """Every stored string goes out as plain text: nothing in it styles, links or moves the
    terminal."""
    console = Console()
    i = detail.incident
    console.print(
        Text.assemble(
            (f"Incident #{i.id}", "bold"),
            plain(f" {i.cause} on {i.target}: {i.status.value}"),
        )
    )
    console.print(
        Text(
            f"severity {i.severity.value}, opened {_iso(i.opened_at)}"
            + (f", resolved {_iso(i.resolved_at)}" if i.resolved_at else "")
            + (f", recurs incident #{i.previous_incident_id}" if i.previous_incident_id else "")
        )
    )
    console.print(Text(plain(i.title)))
    console.rule("tickets")
    for t in detail.tickets:
        line = f"#{t.id} {t.severity.value} {t.status.value} {t.invariant} on {t.target}: "
        console.print(Text(plain(line + t.message)))
    d = detail.diagnosis
    if d is not None:
        model = f", {d.model}" if d.model else ""
        console.rule(Text(plain(f"diagnosis #{d.id} ({d.backend}{model})")))
        if d.text:
            console.print(Markdown(plain(d.text, multiline=True, limit=None), hyperlinks=False))
        if d.error:
            console.print(Text.assemble(("failed:", "red"), f" {plain(d.error)}"))
    console.rule("timeline")
    for e in detail.timeline:
        who = f"ticket #{e['ticket_id']} " if "ticket_id" in e else ""
        console.print(Text(plain(f"{e['ts']}  {who}{e['kind']}")))
