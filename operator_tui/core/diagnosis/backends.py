"""The diagnosis backends by name: one list that settings, the CLI and ``eval`` all read.

``auto`` is not a backend of its own: it resolves to ``claude`` when an API key is
set and to ``offline`` otherwise (``resolve``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    description: str


AUTO = "auto"
CLAUDE = "claude"
OFFLINE = "offline"

BACKENDS: tuple[Backend, ...] = (
    Backend(AUTO, "Claude when an API key is set, else offline"),
    Backend(CLAUDE, "Claude through the Messages API, with read-only tools (needs an API key)"),
    Backend(OFFLINE, "the subject's rules, no network and no key"),
)
NAMES: tuple[str, ...] = tuple(b.name for b in BACKENDS)
RUNNABLE: tuple[str, ...] = tuple(n for n in NAMES if n != AUTO)
"""What a run uses once ``auto`` is resolved: the choices of ``eval --backend``."""


def check(name: str) -> str:
    """``name`` if it is a backend, else ``ValueError`` naming the choices."""
    if name not in NAMES:
        raise ValueError(f"unknown diagnosis backend {name!r} (choose {', '.join(NAMES)})")
    return name


def resolve(name: str, *, has_key: bool) -> str:
    """The backend a run uses: ``auto`` becomes ``claude`` with a key, ``offline`` without."""
    check(name)
    if name == AUTO:
        return CLAUDE if has_key else OFFLINE
    return name


def describe() -> str:
    """``auto`` (...), ``claude`` (...), ...: for help texts and descriptions."""
    return "; ".join(f"{b.name}: {b.description}" for b in BACKENDS)
