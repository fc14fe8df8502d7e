"""The Claude diagnoser: an investigation loop that streams, calls read-only tools, and submits.

Each turn is one ``messages.stream`` call: text deltas go to the sink as they arrive;
the tool calls of the turn run through the context's ``ToolBox`` (the subject's
read-only tools) and their answers go back as ``tool_result`` blocks holding the same
defanged ``<telemetry>`` JSON as the first message. The system prompt and the tool list
are fixed before the first turn: nothing a tool answers can add a tool or change an
instruction. The loop ends with ``submit_diagnosis``, validated against ``Diagnosis``
(and the subject's declared actions); an invalid or missing submission gets one repair
turn that forces the tool.

Bounds (``LoopBounds``): tool calls per diagnosis, wall time and tokens. At a bound the
pending calls are answered "not run", the model is told to conclude, and the next turn
forces ``submit_diagnosis``. Rate limits, overload, 5xx, timeouts and a stream that ends
early raise ``TransientDiagnosisError`` so the agent runner retries; the loop's state
after its last completed step stays on the context (``checkpoint``), so the retry
resumes there instead of from scratch. The SDK's own retries are off (``max_retries=0``)
so there is one retry policy, the runner's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import anthropic
from pydantic import ValidationError

from operator_tui.core.bounds import clip
from operator_tui.core.diagnosis.base import (
    DiagnosisError,
    DiagnosisOutcome,
    TextSink,
    TransientDiagnosisError,
)
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.prompt import (
    TOOL_NAME,
    conclude_message,
    repair_message,
    system_prompt,
    tool_schema,
    user_message,
)
from operator_tui.core.diagnosis.schema import ROOT_CAUSE_CLASSES, Diagnosis
from operator_tui.core.tools import ToolBox, ToolStep

TRANSIENT_STATUS = {408, 409, 429, 500, 502, 503, 504, 529}
TRANSIENT_STREAM_ERRORS = {"overloaded_error", "rate_limit_error", "api_error", "timeout_error"}


def make_client(
    api_key: str, base_url: str | None, timeout_s: float = 120.0
) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s
    )


def _retry_after(exc: anthropic.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _stream_error_type(exc: anthropic.APIStatusError) -> str | None:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return str(err.get("type"))
    return None


def _stream_error_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or "")
    return ""


def _one_line(text: str) -> str:
    return clip(" ".join(text.split()), 300)


@dataclass(frozen=True, slots=True)
class LoopBounds:
    """How far one diagnosis may investigate: tool calls, wall seconds, tokens (in + out,
    summed over every turn)."""

    max_tool_calls: int = 12
    max_seconds: float = 180.0
    max_tokens: int = 200_000


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return round((tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / 1e6, 6)


class _Turn:
    """What one streamed response gave: its content, its tool calls, the usage."""

    def __init__(self) -> None:
        self.content: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.input_tokens = 0
        self.output_tokens = 0

    @property
    def submission(self) -> dict[str, Any] | None:
        return next((c for c in self.calls if c["name"] == TOOL_NAME), None)

    @property
    def lookups(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["name"] != TOOL_NAME]


@dataclass(slots=True)
class Checkpoint:
    """The loop after its last completed step: what the next attempt resumes from."""

    messages: list[dict[str, Any]]
    steps: list[ToolStep]
    text: list[str]
    tokens_in: int
    tokens_out: int
    calls: int
    elapsed_s: float
    repaired: bool
    forced: bool


@dataclass(slots=True)
class _Loop:
    messages: list[dict[str, Any]]
    text: list[str] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0
    started: float = 0.0
    repaired: bool = False
    forced: bool = False

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started


def _result(tool_id: str, text: str, *, error: bool) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_id, "is_error": error, "content": text}


class ClaudeDiagnoser:
    backend = "claude"

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        *,
        model: str,
        max_tokens: int,
        bounds: LoopBounds | None = None,
        price: Price | None = None,
    ) -> None:
        self.client = client
        self.model: str | None = model
        self.max_tokens = max_tokens
        self.bounds = bounds or LoopBounds()
        self.price = price

    async def aclose(self) -> None:
        await self.client.close()

    def _bound(self, loop: _Loop) -> str | None:
        """Why the investigation must end now, or None."""
        b = self.bounds
        if loop.calls >= b.max_tool_calls:
            return f"{b.max_tool_calls} tool calls made"
        if loop.elapsed_s >= b.max_seconds:
            return f"{b.max_seconds:g} s spent"
        if loop.tokens_in + loop.tokens_out >= b.max_tokens:
            return f"{b.max_tokens} tokens used"
        return None

    def _resume(self, context: DiagnosisContext, box: ToolBox) -> _Loop | None:
        cp = context.checkpoint
        context.checkpoint = None
        if not isinstance(cp, Checkpoint):
            return None
        box.steps[:0] = cp.steps
        return _Loop(
            messages=list(cp.messages),
            text=list(cp.text),
            tokens_in=cp.tokens_in,
            tokens_out=cp.tokens_out,
            calls=cp.calls,
            started=time.monotonic() - cp.elapsed_s,
            repaired=cp.repaired,
            forced=cp.forced,
        )

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        box = context.tools if context.tools is not None else ToolBox(())
        lookups = [t for t in box.schemas() if t["name"] != TOOL_NAME]
        calls_allowed = self.bounds.max_tool_calls if lookups else 0
        system = system_prompt(context, calls_allowed)
        tools = [tool_schema(context), *lookups]
        loop = self._resume(context, box)
        if loop is None:
            loop = _Loop(
                messages=[{"role": "user", "content": user_message(context)}],
                started=time.monotonic(),
            )
        elif loop.text:
            await on_text("".join(loop.text))
        # Each turn either makes a tool call (bounded), repairs once, or ends the loop.
        for _ in range(calls_allowed + 4):
            reason = self._bound(loop) if lookups else None
            forced = loop.forced or reason is not None
            said_before = len(loop.text)
            try:
                turn = await self._turn(
                    system, loop.messages, tools, on_text, loop.text, forced=forced
                )
            except TransientDiagnosisError:
                context.checkpoint = Checkpoint(
                    loop.messages,
                    list(box.steps),
                    loop.text[:said_before],  # the cut turn's text is said again on resume
                    loop.tokens_in,
                    loop.tokens_out,
                    loop.calls,
                    loop.elapsed_s,
                    loop.repaired,
                    loop.forced,
                )
                raise
            loop.tokens_in += turn.input_tokens
            loop.tokens_out += turn.output_tokens
            said = turn.content or [{"type": "text", "text": "(no output)"}]
            submission = turn.submission
            if submission is not None or forced or not turn.lookups:
                error = f"no {TOOL_NAME} call was made"
                if submission is not None:
                    diagnosis, error = self._validate(submission["input"], context)
                    if diagnosis is not None:
                        return DiagnosisOutcome(
                            diagnosis=diagnosis,
                            text="".join(loop.text),
                            input_tokens=loop.tokens_in,
                            output_tokens=loop.tokens_out,
                            investigation=box.trace,
                            cost_usd=self.price.cost(loop.tokens_in, loop.tokens_out)
                            if self.price
                            else None,
                        )
                if loop.repaired:
                    raise DiagnosisError(f"model gave an invalid diagnosis twice: {error}")
                loop.repaired = loop.forced = True
                content = [
                    _result(
                        c["id"],
                        error if c["name"] == TOOL_NAME else f"not run: fix {TOOL_NAME} first",
                        error=True,
                    )
                    for c in turn.calls
                ]
                content.append({"type": "text", "text": repair_message(error)})
                loop.messages += [
                    {"role": "assistant", "content": said},
                    {"role": "user", "content": content},
                ]
                continue
            content = []
            for call in turn.lookups:
                reason = self._bound(loop)
                if reason is not None:
                    content.append(_result(call["id"], f"not run: {reason}", error=True))
                    continue
                answer = await box.call(call["name"], call["input"])
                loop.calls += 1
                content.append(_result(call["id"], answer.text, error=not answer.step.ok))
            reason = self._bound(loop)
            if reason is not None:
                loop.forced = True
                content.append({"type": "text", "text": conclude_message(reason)})
            loop.messages += [
                {"role": "assistant", "content": said},
                {"role": "user", "content": content},
            ]
        raise DiagnosisError(f"the model did not conclude within {calls_allowed + 4} turns")

    def _validate(self, tool_input: Any, context: DiagnosisContext) -> tuple[Diagnosis | None, str]:
        try:
            diagnosis = Diagnosis.model_validate(
                tool_input, context={ROOT_CAUSE_CLASSES: context.root_cause_classes}
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
                for e in exc.errors()[:6]
            )
            return None, problems
        undeclared = diagnosis.undeclared_actions(context.action_names)
        if undeclared:
            return (
                None,
                f"recommended_actions uses undeclared actions {undeclared}; allowed: {sorted(context.action_names)}",
            )
        return diagnosis, ""

    async def _turn(
        self,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_text: TextSink,
        text: list[str],
        *,
        forced: bool,
    ) -> _Turn:
        turn = _Turn()
        tool_choice: dict[str, Any] = (
            {"type": "tool", "name": TOOL_NAME} if forced else {"type": "auto"}
        )
        stopped = False
        try:
            async with self.client.messages.stream(
                model=self.model or "",
                max_tokens=self.max_tokens,
                system=system,
                messages=messages,  # type: ignore[arg-type]
                tools=tools,  # type: ignore[arg-type]
                tool_choice=tool_choice,  # type: ignore[arg-type]
            ) as stream:
                async for event in stream:
                    if event.type == "text":
                        text.append(event.text)
                        await on_text(event.text)
                    elif event.type == "message_stop":
                        stopped = True
                if not stopped:
                    raise TransientDiagnosisError("the response stream ended before message_stop")
                final = await stream.get_final_message()
        except anthropic.APIStatusError as exc:
            kind = _stream_error_type(exc)
            if exc.status_code < 400:
                # The HTTP answer was fine; an ``error`` event came inside the stream.
                what = f"Messages API stream error event: {kind or 'unknown'}"
                detail = _one_line(_stream_error_message(exc))
                what += f" ({detail})" if detail else ""
            else:
                what = f"Messages API {exc.status_code} {kind or ''}".strip()
            if exc.status_code in TRANSIENT_STATUS or kind in TRANSIENT_STREAM_ERRORS:
                raise TransientDiagnosisError(what, _retry_after(exc)) from None
            if exc.status_code < 400:
                raise DiagnosisError(what) from None
            raise DiagnosisError(
                f"Messages API {exc.status_code}: {_one_line(str(exc.message))}"
            ) from None
        except anthropic.APITimeoutError:
            raise TransientDiagnosisError("Messages API timed out") from None
        except anthropic.APIConnectionError as exc:
            raise TransientDiagnosisError(f"cannot reach the Messages API: {exc}") from None
        except (OSError, EOFError) as exc:
            raise TransientDiagnosisError(f"connection failed: {exc}") from None
        except Exception as exc:
            if _is_transport_error(exc):
                raise TransientDiagnosisError(
                    f"the response stream was cut: {type(exc).__name__}"
                ) from None
            raise
        turn.input_tokens = final.usage.input_tokens
        turn.output_tokens = final.usage.output_tokens
        for block in final.content:
            if block.type == "text":
                turn.content.append({"type": "text", "text": block.text})
            elif block.type == "tool_use":
                call = {
                    "type": "tool_use",
                    "id": block.id,
                    "name": block.name,
                    "input": block.input,
                }
                turn.content.append(call)
                turn.calls.append(call)
        return turn


def _is_transport_error(exc: Exception) -> bool:
    """The HTTP library's transport errors (a peer that closed mid-body), whichever httpx the SDK uses."""
    return any(
        cls.__module__.split(".")[0] in {"httpx", "httpx2", "httpcore", "httpcore2", "h11"}
        and cls.__name__.endswith("Error")
        for cls in type(exc).__mro__
    )
