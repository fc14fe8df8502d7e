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
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from operator_tui.commands.tickets import _iso, diagnosis_json, ticket_json
from operator_tui.config import Settings
from operator_tui.core.incident import Incident
from operator_tui.core.incident_store import IncidentStore
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
    if not path.exists():
        if args.incidents_command == "list":
            print("[]" if args.json else f"no ticket database at {path} yet")
            return 0
        print(f"operator-tui: error: no ticket database at {path}", file=sys.stderr)
        return 2
    try:
        if args.incidents_command == "list":
            incidents = asyncio.run(_list(path, args.all, args.limit))
            return _print_list(incidents, args.json)
        detail = asyncio.run(_show(path, args.id))
    except TicketStoreError as exc:
        print(f"operator-tui: error: {exc}", file=sys.stderr)
        return 2
    if detail is None:
        print(f"operator-tui: error: no incident {args.id} in {path}", file=sys.stderr)
        return 2
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
            i.cause,
            i.target,
            f"{i.open_tickets}/{len(i.ticket_ids)} open",
            i.opened_at.strftime("%Y-%m-%d %H:%M:%S"),
            i.title,
        )
    Console().print(table)
    return 0


def _print_show(detail: IncidentDetail) -> None:
    console = Console()
    i = detail.incident
    console.print(f"[bold]Incident #{i.id}[/] {i.cause} on {i.target}: {i.status.value}")
    console.print(
        f"severity {i.severity.value}, opened {_iso(i.opened_at)}"
        + (f", resolved {_iso(i.resolved_at)}" if i.resolved_at else "")
        + (f", recurs incident #{i.previous_incident_id}" if i.previous_incident_id else "")
    )
    console.print(i.title, markup=False)
    console.rule("tickets")
    for t in detail.tickets:
        console.print(
            f"#{t.id} {t.severity.value} {t.status.value} {t.invariant} on {t.target}: {t.message}",
            markup=False,
        )
    d = detail.diagnosis
    if d is not None:
        console.rule(f"diagnosis #{d.id} ({d.backend}{', ' + d.model if d.model else ''})")
        if d.text:
            console.print(Markdown(d.text))
        if d.error:
            console.print(f"[red]failed:[/] {d.error}")
    console.rule("timeline")
    for e in detail.timeline:
        who = f"ticket #{e['ticket_id']} " if "ticket_id" in e else ""
        console.print(f"{e['ts']}  {who}{e['kind']}", markup=False)
