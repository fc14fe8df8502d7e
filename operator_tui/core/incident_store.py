"""Incidents in the ticket database (tables in ``incident_schema``): placing tickets, reading.

The tables sit beside the tickets in the same SQLite file and are written on the
ticket store's connection, inside its write transactions, so a ``kill -9`` never
leaves an incident half recorded. A ticket belongs to one incident
(``incident_tickets`` is keyed by ticket).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from operator_tui.core.incident import (
    Incident,
    IncidentEvent,
    IncidentRules,
    IncidentStatus,
    IncidentView,
    highest,
    place,
)
from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.tickets import TicketStore, ticket_from_row, time_or_none
from operator_tui.core.types import Severity

_COLUMNS = (
    "i.id, i.subject, i.target, i.store_id, i.cause, i.title, i.severity, i.status, "
    "i.opened_at, i.updated_at, i.resolved_at, i.previous_incident_id, i.lead_ticket_id"
)
_TICKET_COLUMNS = (
    "t.id, t.violation_key, t.invariant, t.subject, t.target, t.store_id, t.severity, t.status, "
    "t.message, t.first_seen, t.last_seen, t.occurrences, t.resolved_at, t.previous_ticket_id, "
    "t.diagnosis_failed"
)

UNRESOLVED_STANDING = (
    "SELECT i.id, group_concat(t.severity), sum(t.status != 'resolved'), "
    "max(t.resolved_at), i.severity FROM incidents i "
    "JOIN incident_tickets it ON it.incident_id = i.id "
    "JOIN tickets t ON t.id = it.ticket_id "
    "WHERE i.status != 'resolved' GROUP BY i.id"
)
"""Each unresolved incident's ticket severities, open tickets and last resolution: read
every tick, so it must stay as cheap after a year of incidents as after one."""

ORPHANS = (
    f"SELECT {_TICKET_COLUMNS} FROM tickets t INDEXED BY tickets_one_unresolved "
    "WHERE t.status != 'resolved' "
    "AND NOT EXISTS (SELECT 1 FROM incident_tickets it WHERE it.ticket_id = t.id) ORDER BY t.id"
)
"""Unresolved tickets in no incident yet, read every tick. Left to itself SQLite walks every
ticket ever opened in id order to skip the sort (3.3 ms a tick after 2,100 tickets; 0.01 ms
through the index of unresolved ones)."""


def _row_incident(row: Sequence[Any]) -> Incident:
    return Incident(
        id=row[0],
        subject=row[1],
        target=row[2],
        store_id=row[3],
        cause=row[4],
        title=row[5],
        severity=Severity(row[6]),
        status=IncidentStatus(row[7]),
        opened_at=datetime.fromtimestamp(row[8], UTC),
        updated_at=datetime.fromtimestamp(row[9], UTC),
        resolved_at=time_or_none(row[10]),
        previous_incident_id=row[11],
        lead_ticket_id=row[12],
    )


class IncidentStore:
    """Incidents over an open ``TicketStore`` (same connection, same write lock)."""

    def __init__(self, tickets: TicketStore) -> None:
        self.tickets = tickets

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self.tickets._fetchall(sql, params)

    # --- reads -------------------------------------------------------------------------

    async def _with_tickets(self, incidents: list[Incident]) -> list[Incident]:
        if not incidents:
            return incidents
        by_id = {i.id: i for i in incidents}
        ids = list(by_id)
        for start in range(0, len(ids), 400):
            part = ids[start : start + 400]
            marks = ",".join("?" * len(part))
            for incident_id, ticket_id, status in await self._fetchall(
                "SELECT it.incident_id, it.ticket_id, t.status FROM incident_tickets it "
                f"JOIN tickets t ON t.id = it.ticket_id WHERE it.incident_id IN ({marks}) "
                "ORDER BY it.ticket_id",
                part,
            ):
                incident = by_id[incident_id]
                incident.ticket_ids.append(ticket_id)
                if status != TicketStatus.RESOLVED.value:
                    incident.open_tickets += 1
        return incidents

    async def get_incident(self, incident_id: int) -> Incident | None:
        rows = await self._fetchall(
            f"SELECT {_COLUMNS} FROM incidents i WHERE i.id = ?", (incident_id,)
        )
        found = await self._with_tickets([_row_incident(r) for r in rows])
        return found[0] if found else None

    async def list_incidents(
        self, *, include_resolved: bool = True, limit: int = 500
    ) -> list[Incident]:
        """Unresolved incidents first, then resolved ones; newest first within each."""
        rows = await self._fetchall(
            f"SELECT {_COLUMNS} FROM incidents i WHERE i.status != 'resolved' "
            "ORDER BY i.id DESC LIMIT ?",
            (limit,),
        )
        if include_resolved and len(rows) < limit:
            rows += await self._fetchall(
                f"SELECT {_COLUMNS} FROM incidents i WHERE i.status = 'resolved' "
                "ORDER BY i.id DESC LIMIT ?",
                (limit - len(rows),),
            )
        return await self._with_tickets([_row_incident(r) for r in rows])

    async def incident_of(self, ticket_id: int) -> Incident | None:
        rows = await self._fetchall(
            "SELECT incident_id FROM incident_tickets WHERE ticket_id = ?", (ticket_id,)
        )
        return await self.get_incident(int(rows[0][0])) if rows else None

    async def incident_tickets(self, incident_id: int) -> list[Ticket]:
        """Its tickets, oldest first, without their snapshots."""
        rows = await self._fetchall(
            f"SELECT {_TICKET_COLUMNS} FROM incident_tickets it JOIN tickets t "
            "ON t.id = it.ticket_id WHERE it.incident_id = ? ORDER BY t.id",
            (incident_id,),
        )
        return [ticket_from_row(r) for r in rows]

    async def events(self, incident_id: int) -> list[IncidentEvent]:
        rows = await self._fetchall(
            "SELECT id, incident_id, ts, kind, detail FROM incident_events "
            "WHERE incident_id = ? ORDER BY id",
            (incident_id,),
        )
        return [
            IncidentEvent(
                id=r[0],
                incident_id=r[1],
                ts=datetime.fromtimestamp(r[2], UTC),
                kind=r[3],
                detail=json.loads(r[4]),
            )
            for r in rows
        ]

    async def _open_views(self) -> list[IncidentView]:
        rows = await self._fetchall(
            f"SELECT {_COLUMNS} FROM incidents i WHERE i.status != 'resolved' ORDER BY i.id"
        )
        incidents = await self._with_tickets([_row_incident(r) for r in rows])
        views = []
        for incident in incidents:
            tickets = await self.incident_tickets(incident.id)
            views.append(IncidentView(incident, tuple(tickets)))
        return views

    # --- writes ------------------------------------------------------------------------

    async def record(
        self, rules: IncidentRules, now: datetime, *, subject: str | None = None
    ) -> list[tuple[str, Incident]]:
        """Place every unresolved ticket not yet in an incident, refresh severities, and
        resolve incidents whose tickets have all been resolved for ``rules.settle_s``.

        Returns ``("opened"|"updated"|"resolved", incident)`` changes. Run after each
        tick's tickets are recorded; tickets left unplaced by a crash are placed here too.
        """
        ts = now.timestamp()
        conn = self.tickets._conn
        subject = self.tickets.subject if subject is None else subject
        touched: dict[int, str] = {}

        async def event(incident_id: int, kind: str, detail: dict[str, Any]) -> None:
            await conn.execute(
                "INSERT INTO incident_events (incident_id, ts, kind, detail) VALUES (?, ?, ?, ?)",
                (incident_id, ts, kind, json.dumps(detail, default=str)),
            )

        async def body() -> None:
            orphans = [ticket_from_row(r) for r in await self._fetchall(ORPHANS)]
            views = await self._open_views() if orphans else []
            for ticket in orphans:
                found = place(ticket, views, rules)
                if found is not None:
                    view, reason = found
                    incident_id = view.incident.id
                    await conn.execute(
                        "INSERT INTO incident_tickets (ticket_id, incident_id, joined_at, rule) "
                        "VALUES (?, ?, ?, ?)",
                        (ticket.id, incident_id, ts, reason),
                    )
                    await event(
                        incident_id,
                        "joined",
                        {"ticket_id": ticket.id, "invariant": ticket.invariant, "rule": reason},
                    )
                    views[views.index(view)] = IncidentView(view.incident, (*view.tickets, ticket))
                    touched.setdefault(incident_id, "updated")
                    continue
                cause = rules.cause(ticket)
                prev = await self._fetchall(
                    "SELECT max(id) FROM incidents WHERE target = ? AND cause = ? "
                    "AND status = 'resolved'",
                    (ticket.target, cause),
                )
                previous = prev[0][0] if prev else None
                cur = await conn.execute(
                    "INSERT INTO incidents (subject, target, store_id, cause, title, severity, "
                    "status, opened_at, updated_at, previous_incident_id, lead_ticket_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)",
                    (
                        subject,
                        ticket.target,
                        ticket.store_id,
                        cause,
                        ticket.message,
                        ticket.severity.value,
                        ts,
                        ts,
                        previous,
                        ticket.id,
                    ),
                )
                incident_id = int(cur.lastrowid or 0)
                await conn.execute(
                    "INSERT INTO incident_tickets (ticket_id, incident_id, joined_at, rule) "
                    "VALUES (?, ?, ?, 'opened')",
                    (ticket.id, incident_id, ts),
                )
                detail: dict[str, Any] = {"ticket_id": ticket.id, "invariant": ticket.invariant}
                if previous is not None:
                    detail["previous_incident_id"] = previous
                await event(incident_id, "opened", detail)
                touched[incident_id] = "opened"
                rows = await self._fetchall(
                    f"SELECT {_COLUMNS} FROM incidents i WHERE i.id = ?", (incident_id,)
                )
                views.append(IncidentView(_row_incident(rows[0]), (ticket,)))
            for incident_id, severities, open_count, last_resolved, held in await self._fetchall(
                UNRESOLVED_STANDING
            ):
                top = highest([Severity(s) for s in severities.split(",")])
                if top.rank > Severity(held).rank:  # the peak stays: how bad it got
                    await conn.execute(
                        "UPDATE incidents SET severity = ? WHERE id = ?", (top.value, incident_id)
                    )
                    await event(incident_id, "severity_changed", {"from": held, "to": top.value})
                    touched.setdefault(incident_id, "updated")
                if open_count == 0 and last_resolved is not None:
                    if ts - last_resolved >= rules.settle_s:
                        await conn.execute(
                            "UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE id = ?",
                            (ts, incident_id),
                        )
                        await event(incident_id, "resolved", {})
                        touched[incident_id] = "resolved"
            if touched:
                marks = ",".join("?" * len(touched))
                await conn.execute(
                    f"UPDATE incidents SET updated_at = ? WHERE id IN ({marks})",
                    (ts, *touched),
                )

        await self.tickets._transaction(body)
        out: list[tuple[str, Incident]] = []
        for incident_id, kind in sorted(touched.items()):
            incident = await self.get_incident(incident_id)
            if incident is not None:
                out.append((kind, incident))
        return out

    async def cover(
        self, incident_id: int, ticket_ids: Sequence[int], diagnosis_id: int, now: datetime
    ) -> list[Ticket]:
        """The incident's diagnosis covered these tickets (it was given them as evidence):
        those still open or diagnosing become diagnosed, so the agent does not diagnose them
        again on their own. Returns the tickets changed."""
        if not ticket_ids:
            return []
        ts = now.timestamp()
        changed: list[int] = []

        async def body() -> None:
            conn = self.tickets._conn
            for ticket_id in ticket_ids:
                cur = await conn.execute(
                    "UPDATE tickets SET status = 'diagnosed', diagnosis_failed = 0 "
                    "WHERE id = ? AND status IN ('open', 'diagnosing')",
                    (ticket_id,),
                )
                if cur.rowcount:
                    changed.append(ticket_id)
                    await conn.execute(
                        "INSERT INTO ticket_events (ticket_id, ts, kind, detail) "
                        "VALUES (?, ?, 'diagnosis.incident', ?)",
                        (
                            ticket_id,
                            ts,
                            json.dumps({"incident_id": incident_id, "diagnosis_id": diagnosis_id}),
                        ),
                    )

        await self.tickets._transaction(body)
        return [t for t in await self.incident_tickets(incident_id) if t.id in changed]

    async def requeue_interrupted(self, now: datetime) -> list[int]:
        """After a crash or shutdown: incidents left ``diagnosing`` go back to ``open``."""
        rows = await self._fetchall("SELECT id FROM incidents WHERE status = 'diagnosing'")
        for (incident_id,) in rows:
            await self.set_status(incident_id, IncidentStatus.OPEN, now, requeued=True)
        return [r[0] for r in rows]

    async def set_status(
        self, incident_id: int, status: IncidentStatus, now: datetime, **detail: Any
    ) -> Incident | None:
        """A diagnosis moved the incident on; a resolved incident stays resolved."""
        ts = now.timestamp()

        async def body() -> None:
            conn = self.tickets._conn
            cur = await conn.execute(
                "UPDATE incidents SET status = ?, updated_at = ? WHERE id = ? "
                "AND status != 'resolved'",
                (status.value, ts, incident_id),
            )
            if cur.rowcount:
                await conn.execute(
                    "INSERT INTO incident_events (incident_id, ts, kind, detail) "
                    "VALUES (?, ?, ?, ?)",
                    (incident_id, ts, status.value, json.dumps(detail, default=str)),
                )

        await self.tickets._transaction(body)
        return await self.get_incident(incident_id)
