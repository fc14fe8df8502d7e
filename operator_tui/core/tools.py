"""Read-only tools a diagnoser calls to look at the system: the protocol, the runner, the trace.

A subject declares its tools (``SubjectConfig.tools``); core runs them for every
diagnoser, Claude's loop and the offline rules alike. A tool is a name, a description,
a JSON input schema and an async ``run``; it gets only what ``ToolEnv`` hands it (what the
operator already knows) and what the subject bound into it, which for a read-only tool is
a reader, never a client that can change the system.

``ToolBox.call`` is the one way a tool runs: unknown names and inputs the schema refuses
are answered as errors without running anything; each run has a time budget; the answer
is capped in rows (every list) and in bytes, with a note saying what was cut; each call
becomes one ``ToolStep`` of the diagnosis's investigation trace. The answer reaches a
model as JSON inside the same defanged ``<telemetry>`` delimiters as the telemetry.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from operator_tui.core.bounds import bounded_json, clip

if TYPE_CHECKING:
    from operator_tui.core.history import HistorySource
    from operator_tui.core.ticket import Ticket
    from operator_tui.core.types import Snapshot

MAX_ROWS = 50
MAX_BYTES = 16_000
BUDGET_S = 10.0
SUMMARY_CHARS = 160


class ToolError(Exception):
    """A tool could not answer; the message fits on one line and is shown to the model."""


@dataclass(frozen=True, slots=True)
class ToolEnv:
    """What core hands a tool at call time: what the operator already knows about the ticket.

    ``ticket`` is the one being diagnosed, ``related`` the other tickets of its incident,
    ``other_tickets`` the other open ones; ``history`` the monitor's rings; ``snapshot``
    the moment the diagnosis describes; ``now`` the runtime's clock.
    """

    ticket: Ticket | None = None
    related: Sequence[Ticket] = ()
    other_tickets: Sequence[Ticket] = ()
    history: HistorySource | None = None
    snapshot: Snapshot | None = None
    now: Callable[[], datetime] | None = None


ToolRun = Callable[[ToolEnv, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Tool:
    """One read-only tool. ``run`` returns JSON-ready data (lists and dicts of plain values);
    it raises ``ToolError`` for an answer the model should see as a failure."""

    name: str
    description: str
    input_schema: dict[str, Any]
    run: ToolRun
    budget_s: float | None = None
    live: bool = False
    """It reads the system as it is now (not what the operator holds): a replay, which has
    only the recording, does not offer it."""

    def schema(self) -> dict[str, Any]:
        """The tool as the Messages API declares one."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """Caps on each answer; ``timer`` times each call (seconds), replaceable where pictures
    must not depend on how fast the machine was."""

    max_rows: int = MAX_ROWS
    max_bytes: int = MAX_BYTES
    budget_s: float = BUDGET_S
    timer: Callable[[], float] = time.perf_counter


@dataclass(slots=True)
class ToolStep:
    """One call of the investigation trace: what was asked, whether it answered, how much, how long."""

    tool: str
    input: dict[str, Any]
    ok: bool
    result_chars: int
    ms: float
    summary: str = ""
    at: int | None = None
    """Where the step falls in the diagnosis's streamed text: the characters streamed
    before it ended (``ToolBox.position``; None when nothing told it)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ToolAnswer:
    """A step and the text the model gets for it (a delimited JSON block)."""

    step: ToolStep
    text: str
    data: Any = None


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _check(value: Any, schema: Mapping[str, Any], where: str) -> list[str]:
    """The problems of ``value`` against the subset of JSON Schema tools declare: ``type``,
    ``enum``, ``minimum``/``maximum``, ``maxLength``, ``items``, ``properties``,
    ``required`` and ``additionalProperties: false``."""
    kind = schema.get("type")
    if isinstance(kind, str) and not _type_ok(value, kind):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: must be one of {', '.join(map(str, schema['enum']))}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: must be at most {schema['maximum']}")
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append(f"{where}: longer than {schema['maxLength']} characters")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value[:100]):
            problems += _check(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        props: Mapping[str, Any] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                problems.append(f"{where}.{name}: required")
        for name, item in value.items():
            if name in props:
                problems += _check(item, props[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{where}.{clip(str(name), 40)}: not an argument of this tool")
    return problems


def check_input(schema: Mapping[str, Any], value: Any) -> list[str]:
    return _check(value, schema, "input")[:6]


def _cap_rows(value: Any, max_rows: int, cut: list[int]) -> Any:
    if isinstance(value, list):
        if len(value) > max_rows:
            cut.append(len(value))
        return [_cap_rows(v, max_rows, cut) for v in value[:max_rows]]
    if isinstance(value, dict):
        return {k: _cap_rows(v, max_rows, cut) for k, v in value.items()}
    return value


def cap(data: Any, limits: ToolLimits) -> tuple[Any, str]:
    """``data`` within the row and byte caps, and a note naming what was cut ("" when nothing)."""
    cut: list[int] = []
    capped = _cap_rows(data, limits.max_rows, cut)
    notes = []
    if cut:
        notes.append(
            f"{len(cut)} list(s) cut to their first {limits.max_rows} rows "
            f"(the longest had {max(cut)})"
        )
    small, text = bounded_json(capped, limits.max_bytes)
    if len(text) < len(json.dumps(capped, default=str, separators=(",", ":"))):
        notes.append(f"answer shrunk to fit {limits.max_bytes} bytes")
    return small, "; ".join(notes)


def summary_of(data: Any) -> str:
    """A short line for the trace: how many rows, or the start of the answer."""
    if isinstance(data, list):
        return f"{len(data)} row(s)"
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, list):
                return f"{len(value)} {clip(str(key), 40)}"
        return clip(json.dumps(data, default=str, separators=(",", ":")), SUMMARY_CHARS)
    return clip(str(data), SUMMARY_CHARS)


Block = Callable[[str, Any], str]
StepSink = Callable[[ToolStep], Awaitable[None]]


def _plain_block(kind: str, payload: Any) -> str:
    return json.dumps({"type": kind, "data": payload}, default=str)


class ToolBox:
    """The tools of one diagnosis and its trace. ``block`` renders an answer for the model
    (the prompt's defanged data block); ``on_step`` hears each step as it ends;
    ``position`` says how much of the diagnosis's text has streamed (each step's ``at``)."""

    def __init__(
        self,
        tools: Sequence[Tool],
        env: ToolEnv | None = None,
        *,
        limits: ToolLimits | None = None,
        block: Block = _plain_block,
        on_step: StepSink | None = None,
        position: Callable[[], int] | None = None,
    ) -> None:
        self.position = position
        self.tools: dict[str, Tool] = {t.name: t for t in tools}
        self.env = env or ToolEnv()
        self.limits = limits or ToolLimits()
        self.block = block
        self.on_step = on_step
        self.steps: list[ToolStep] = []

    def __bool__(self) -> bool:
        return bool(self.tools)

    def schemas(self) -> list[dict[str, Any]]:
        return [t.schema() for t in self.tools.values()]

    @property
    def trace(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.steps]

    async def call(self, name: str, arguments: Any) -> ToolAnswer:
        """Run one tool; never raises except on cancellation."""
        started = self.limits.timer()
        shown_input = arguments if isinstance(arguments, dict) else {"_raw": arguments}
        shown_input, _ = bounded_json(shown_input, 2000)
        tool = self.tools.get(name)
        note = ""
        data: Any = None
        if tool is None:
            ok = False
            error = (
                f"unknown tool {clip(str(name), 60)!r}; the tools are: "
                f"{', '.join(sorted(self.tools))}"
            )
        else:
            problems = check_input(tool.input_schema, arguments)
            if problems:
                ok, error = False, "invalid arguments: " + "; ".join(problems)
            else:
                budget = tool.budget_s or self.limits.budget_s
                try:
                    async with asyncio.timeout(budget):
                        raw = await tool.run(self.env, dict(arguments))
                    data, note = cap(raw, self.limits)
                    ok, error = True, ""
                except TimeoutError:
                    ok, error = False, f"timed out after {budget:g}s"
                except ToolError as exc:
                    ok, error = False, clip(" ".join(str(exc).split()), 400)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    ok = False
                    error = clip(f"{type(exc).__name__}: {' '.join(str(exc).split())}", 400)
        payload: dict[str, Any] = {"tool": clip(str(name), 60), "ok": ok}
        if ok:
            payload["result"] = data
            if note:
                payload["note"] = note
        else:
            payload["error"] = error
        text = self.block("tool_result", payload)
        step = ToolStep(
            tool=clip(str(name), 60),
            input=shown_input if isinstance(shown_input, dict) else {"_raw": shown_input},
            ok=ok,
            result_chars=len(text),
            ms=round((self.limits.timer() - started) * 1000, 1),
            summary=(summary_of(data) + (f" ({note})" if note else "")) if ok else error,
            at=self.position() if self.position is not None else None,
        )
        self.steps.append(step)
        if self.on_step is not None:
            await self.on_step(step)
        return ToolAnswer(step, text, data if ok else None)


def schema(
    properties: dict[str, dict[str, Any]] | None = None, required: Sequence[str] = ()
) -> dict[str, Any]:
    """An object schema that refuses arguments it does not name."""
    return {
        "type": "object",
        "properties": properties or {},
        "required": list(required),
        "additionalProperties": False,
    }


@dataclass(slots=True)
class Checks:
    """The calls a rule-based diagnoser makes, in order: (tool, arguments)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def add(self, tool: str, **arguments: Any) -> Checks:
        self.calls.append((tool, arguments))
        return self
