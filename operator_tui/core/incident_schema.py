"""The incident tables, added to the ticket database as its second migration.

The migration from the schema before incidents makes every existing ticket its own
incident (same id, status and times; its cause is its invariant), so an old database
keeps every ticket and diagnosis and its queue shows all it held.
"""

INCIDENTS_MIGRATION = """
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        subject TEXT NOT NULL,
        target TEXT NOT NULL,
        store_id INTEGER,
        cause TEXT NOT NULL,
        title TEXT NOT NULL,
        severity TEXT NOT NULL,
        status TEXT NOT NULL,
        opened_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        resolved_at REAL,
        previous_incident_id INTEGER REFERENCES incidents(id),
        lead_ticket_id INTEGER NOT NULL REFERENCES tickets(id)
    );
    CREATE INDEX incidents_status_id ON incidents(status, id);
    CREATE INDEX incidents_target_cause ON incidents(target, cause, id);
    CREATE TABLE incident_tickets (
        ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        joined_at REAL NOT NULL,
        rule TEXT NOT NULL
    );
    CREATE INDEX incident_tickets_incident ON incident_tickets(incident_id, ticket_id);
    CREATE TABLE incident_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        ts REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX incident_events_incident ON incident_events(incident_id, id);
    INSERT INTO incidents (id, subject, target, store_id, cause, title, severity, status,
        opened_at, updated_at, resolved_at, previous_incident_id, lead_ticket_id)
        SELECT id, subject, target, store_id, invariant, message, severity, status,
            first_seen, last_seen, resolved_at, previous_ticket_id, id FROM tickets;
    INSERT INTO incident_tickets (ticket_id, incident_id, joined_at, rule)
        SELECT id, id, first_seen, 'migrated' FROM tickets;
    INSERT INTO incident_events (incident_id, ts, kind, detail)
        SELECT id, first_seen, 'migrated', '{}' FROM tickets
"""
