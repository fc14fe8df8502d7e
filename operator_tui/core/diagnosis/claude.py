"""The Claude diagnoser: streams the narrative, takes the structured result from a tool call.

One ``messages.stream`` call per attempt: text deltas go to the sink as they
arrive; the ``submit_diagnosis`` tool input is validated against ``Diagnosis``
(and against the subject's declared actions). An invalid or missing tool call
gets one repair turn that forces the tool. Rate limits, overload, 5xx,
timeouts and a stream that ends early raise ``TransientDiagnosisError`` so the
agent runner retries; the SDK's own retries are off (``max_retries=0``) so
there is one retry policy, the runner's.
"""

from __future__ import annotations

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
    repair_message,
    system_prompt,
    tool_schema,
    user_message,
)
from operator_tui.core.diagnosis.schema import ROOT_CAUSE_CLASSES, Diagnosis

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


class _Turn:
    """What one streamed response gave: its content, the tool input, the usage."""

    def __init__(self) -> None:
        self.content: list[dict[str, Any]] = []
        self.tool_input: Any = None
        self.saw_tool = False
        self.input_tokens = 0
        self.output_tokens = 0


class ClaudeDiagnoser:
    backend = "claude"

    def __init__(self, client: anthropic.AsyncAnthropic, *, model: str, max_tokens: int) -> None:
        self.client = client
        self.model: str | None = model
        self.max_tokens = max_tokens

    async def aclose(self) -> None:
        await self.client.close()

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        system = system_prompt(context)
        tools = [tool_schema(context)]
        messages: list[dict[str, Any]] = [{"role": "user", "content": user_message(context)}]
        text: list[str] = []
        turn = await self._turn(system, messages, tools, on_text, text, forced=False)
        tokens_in, tokens_out = turn.input_tokens, turn.output_tokens
        diagnosis, error = self._validate(turn, context)
        if diagnosis is None:
            messages.append(
                {
                    "role": "assistant",
                    "content": turn.content or [{"type": "text", "text": "(no output)"}],
                }
            )
            tool_ids = [b["id"] for b in turn.content if b.get("type") == "tool_use"]
            if tool_ids:
                content: list[dict[str, Any]] = [
                    {"type": "tool_result", "tool_use_id": tid, "is_error": True, "content": error}
                    for tid in tool_ids
                ]
                content.append({"type": "text", "text": repair_message(error)})
            else:
                content = [{"type": "text", "text": repair_message(error)}]
            messages.append({"role": "user", "content": content})
            turn = await self._turn(system, messages, tools, on_text, text, forced=True)
            tokens_in += turn.input_tokens
            tokens_out += turn.output_tokens
            diagnosis, error = self._validate(turn, context)
            if diagnosis is None:
                raise DiagnosisError(f"model gave an invalid diagnosis twice: {error}")
        return DiagnosisOutcome(
            diagnosis=diagnosis,
            text="".join(text),
            input_tokens=tokens_in,
            output_tokens=tokens_out,
        )

    def _validate(self, turn: _Turn, context: DiagnosisContext) -> tuple[Diagnosis | None, str]:
        if not turn.saw_tool:
            return None, f"no {TOOL_NAME} call was made"
        try:
            diagnosis = Diagnosis.model_validate(
                turn.tool_input, context={ROOT_CAUSE_CLASSES: context.root_cause_classes}
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
                turn.content.append(
                    {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
                )
                if block.name == TOOL_NAME and not turn.saw_tool:
                    turn.saw_tool = True
                    turn.tool_input = block.input
        return turn


def _is_transport_error(exc: Exception) -> bool:
    """The HTTP library's transport errors (a peer that closed mid-body), whichever httpx the SDK uses."""
    return any(
        cls.__module__.split(".")[0] in {"httpx", "httpx2", "httpcore", "httpcore2", "h11"}
        and cls.__name__.endswith("Error")
        for cls in type(exc).__mro__
    )
