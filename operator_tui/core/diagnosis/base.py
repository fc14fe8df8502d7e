"""What every diagnoser is: stream Markdown through a callback, return a validated ``Diagnosis``.

The agent runner only knows this protocol and the two error kinds: a
``TransientDiagnosisError`` is retried with backoff (rate limits, overload, 5xx,
timeouts, a cut stream); any other ``DiagnosisError`` fails the attempt for good.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from operator_tui.core.diagnosis.schema import Diagnosis

if TYPE_CHECKING:
    from operator_tui.core.diagnosis.context import DiagnosisContext

TextSink = Callable[[str], Awaitable[None]]


@dataclass(slots=True)
class DiagnosisOutcome:
    diagnosis: Diagnosis
    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    investigation: list[dict[str, Any]] = field(default_factory=list)
    """The tool calls made, in order (``ToolStep.as_dict``)."""
    cost_usd: float | None = None


class DiagnosisError(Exception):
    """A diagnosis attempt failed; the message fits on one line."""


class TransientDiagnosisError(DiagnosisError):
    """Worth retrying; ``retry_after`` is the server's hint in seconds when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@runtime_checkable
class Diagnoser(Protocol):
    backend: str
    model: str | None

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        """Stream the narrative through ``on_text`` as it is produced; return the structured result."""
        ...
