"""The Textual front end: panes over the core's snapshot, tickets and event bus."""
