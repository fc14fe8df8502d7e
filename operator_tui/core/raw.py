"""A record as the cluster returned it: the body of its own answer, unparsed, for people to read.

Front ends show it as plain text next to what the operator made of it; a subject that can
fetch its records raw implements ``RawRecords``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """``source``: the request as it may be printed (credentials masked); ``body``: the
    answer's bytes decoded as UTF-8, as received."""

    source: str
    status: int
    body: str
    content_type: str = ""


@runtime_checkable
class RawRecords(Protocol):
    def raw_kinds(self) -> tuple[str, ...]:
        """The record kinds it can fetch (the subject names them)."""
        ...

    async def raw_record(self, kind: str, key: int) -> RawAnswer:
        """The cluster's answer for one record; ``SubjectError`` when it cannot be read."""
        ...
