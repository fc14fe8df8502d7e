"""What ``tickets`` and ``incidents`` share: the ticket database may not exist yet, and a
failure is one plain line on stderr with exit code 2."""

from __future__ import annotations

import sys
from pathlib import Path

from operator_tui.core.text import plain

EXIT_ERROR = 2


def fail(message: object) -> int:
    print(f"operator-tui: error: {plain(message)}", file=sys.stderr)
    return EXIT_ERROR


def missing(path: Path, *, listing: bool, as_json: bool) -> int | None:
    """``None`` when the database exists. Otherwise a listing prints an empty answer (nothing
    has been recorded yet) and exits 0, and anything else fails."""
    if path.exists():
        return None
    if listing:
        print("[]" if as_json else f"no ticket database at {path} yet")
        return 0
    return fail(f"no ticket database at {path}")
