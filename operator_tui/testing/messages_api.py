"""A loopback server that speaks Anthropic's Messages API, so the Claude path is tested through the real SDK.

``POST /v1/messages`` answers from a queue of planned replies, one per request,
and records every request it received. A reply is a message (text and
``tool_use`` blocks), served as JSON or, when the request asks for
``stream: true``, as SSE with the same event sequence the API sends
(``message_start``, ``ping``, ``content_block_start``/``delta``/``stop`` with
``text_delta`` and ``input_json_delta``, ``message_delta`` with usage,
``message_stop``); or an error in the API's JSON shape (429 with
``retry-after``, 529 ``overloaded_error``, 500 ``api_error``); or a stream cut
after a given number of events (the connection is aborted mid-body); or an
``error`` event inside a stream.

It is a small HTTP/1.1 server on asyncio streams (keep-alive, Content-Length
requests, chunked responses), bound to 127.0.0.1 on a free port.

    async with MessagesAPIServer() as api:
        api.enqueue(Reply.message("## Observation ...", tool_input={...}))
        client = anthropic.AsyncAnthropic(api_key="test", base_url=api.base_url, max_retries=0)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

_ids = itertools.count(1)

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    529: "Overloaded",
}


@dataclass(slots=True)
class Block:
    """A content block of a planned message: ``text`` or ``tool_use`` (``tool_input`` a dict or raw JSON text)."""

    type: str
    text: str = ""
    name: str = ""
    tool_input: dict[str, Any] | str | None = None


@dataclass(slots=True)
class Reply:
    """One planned answer to one request."""

    blocks: list[Block] = field(default_factory=list)
    status: int = 200
    error_type: str | None = None
    error_message: str = ""
    retry_after: float | None = None
    cut_after_events: int | None = None
    stream_error: str | None = None
    stop_reason: str | None = None
    input_tokens: int = 120
    output_tokens: int = 240
    chunk_chars: int = 24
    delay_s: float = 0.0

    @classmethod
    def message(
        cls,
        text: str = "",
        *,
        tool_input: dict[str, Any] | str | None = None,
        tool_name: str = "submit_diagnosis",
        **kw: Any,
    ) -> Reply:
        blocks = [Block("text", text=text)] if text else []
        if tool_input is not None:
            blocks.append(Block("tool_use", name=tool_name, tool_input=tool_input))
        return cls(blocks=blocks, **kw)

    @classmethod
    def calls(cls, text: str = "", *calls: tuple[str, dict[str, Any] | str], **kw: Any) -> Reply:
        """A turn that calls tools in order (``(name, input)``): a scripted investigation step."""
        blocks = [Block("text", text=text)] if text else []
        blocks += [Block("tool_use", name=name, tool_input=inp) for name, inp in calls]
        return cls(blocks=blocks, **kw)

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "",
        *,
        retry_after: float | None = None,
        error_type: str | None = None,
    ) -> Reply:
        kind = error_type or ERROR_TYPES.get(status, "api_error")
        return cls(
            status=status,
            error_type=kind,
            error_message=message or kind.replace("_", " "),
            retry_after=retry_after,
        )

    @property
    def resolved_stop_reason(self) -> str:
        if self.stop_reason:
            return self.stop_reason
        return "tool_use" if any(b.type == "tool_use" for b in self.blocks) else "end_turn"


@dataclass(slots=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _tool_json(block: Block) -> str:
    if isinstance(block.tool_input, str):
        return block.tool_input
    return json.dumps(block.tool_input or {}, separators=(",", ":"))


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class MessagesAPIServer:
    def __init__(self, *, model: str = "claude-test") -> None:
        self.model = model
        self.queue: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enqueue(self, *replies: Reply) -> None:
        self.queue.extend(replies)

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.base_url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.transport.abort()
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=2.0)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> MessagesAPIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- HTTP -------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    break
                keep = await self._handle(request, writer)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> Recorded | None:
        line = await reader.readline()
        if not line:
            return None
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            h = await reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0") or 0)
        raw = await reader.readexactly(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_invalid_json": raw.decode("utf-8", "replace")}
        return Recorded(method, path.split("?", 1)[0], headers, body)

    async def _respond(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        body = json.dumps(payload).encode()
        head = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
            "content-type: application/json",
            f"content-length: {len(body)}",
        ]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()

    async def _handle(self, req: Recorded, writer: asyncio.StreamWriter) -> bool:
        request_id = f"req_test_{next(_ids)}"
        if req.method != "POST" or req.path != "/v1/messages":
            await self._respond(
                writer,
                404,
                {
                    "type": "error",
                    "error": {
                        "type": "not_found_error",
                        "message": f"no route {req.method} {req.path}",
                    },
                },
            )
            return True
        self.requests.append(req)
        if not self.queue:
            await self._respond(
                writer,
                500,
                {
                    "type": "error",
                    "error": {
                        "type": "api_error",
                        "message": "loopback server: no planned reply left",
                    },
                },
            )
            return True
        reply = self.queue.popleft()
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            headers = {"request-id": request_id}
            if reply.retry_after is not None:
                headers["retry-after"] = f"{reply.retry_after:g}"
            payload = {
                "type": "error",
                "error": {"type": reply.error_type, "message": reply.error_message},
                "request_id": request_id,
            }
            await self._respond(writer, reply.status, payload, headers)
            return True
        if req.body.get("stream"):
            return await self._stream(reply, writer, request_id)
        await self._respond(writer, 200, self._message(reply), {"request-id": request_id})
        return True

    def _message(self, reply: Reply) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        for b in reply.blocks:
            if b.type == "text":
                content.append({"type": "text", "text": b.text})
            else:
                content.append(
                    {
                        "type": "tool_use",
                        "id": f"toolu_{next(_ids):06d}",
                        "name": b.name,
                        "input": json.loads(_tool_json(b)),
                    }
                )
        return {
            "id": f"msg_{next(_ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": reply.resolved_stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
        }

    def _events(self, reply: Reply) -> list[bytes]:
        start = {
            "id": f"msg_{next(_ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": reply.input_tokens, "output_tokens": 1},
        }
        events = [
            _sse("message_start", {"type": "message_start", "message": start}),
            _sse("ping", {"type": "ping"}),
        ]
        for i, b in enumerate(reply.blocks):
            if b.type == "text":
                events.append(
                    _sse(
                        "content_block_start",
                        {
                            "type": "content_block_start",
                            "index": i,
                            "content_block": {"type": "text", "text": ""},
                        },
                    )
                )
                for piece in _pieces(b.text, reply.chunk_chars):
                    events.append(
                        _sse(
                            "content_block_delta",
                            {
                                "type": "content_block_delta",
                                "index": i,
                                "delta": {"type": "text_delta", "text": piece},
                            },
                        )
                    )
            else:
                block = {
                    "type": "tool_use",
                    "id": f"toolu_{next(_ids):06d}",
                    "name": b.name,
                    "input": {},
                }
                events.append(
                    _sse(
                        "content_block_start",
                        {"type": "content_block_start", "index": i, "content_block": block},
                    )
                )
                for piece in _pieces(_tool_json(b), reply.chunk_chars):
                    events.append(
                        _sse(
                            "content_block_delta",
                            {
                                "type": "content_block_delta",
                                "index": i,
                                "delta": {"type": "input_json_delta", "partial_json": piece},
                            },
                        )
                    )
            events.append(_sse("content_block_stop", {"type": "content_block_stop", "index": i}))
        events.append(
            _sse(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": reply.resolved_stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": reply.output_tokens},
                },
            )
        )
        events.append(_sse("message_stop", {"type": "message_stop"}))
        return events

    async def _stream(self, reply: Reply, writer: asyncio.StreamWriter, request_id: str) -> bool:
        head = "\r\n".join(
            [
                "HTTP/1.1 200 OK",
                "content-type: text/event-stream",
                "cache-control: no-cache",
                "transfer-encoding: chunked",
                f"request-id: {request_id}",
            ]
        )
        writer.write((head + "\r\n\r\n").encode())
        events = self._events(reply)
        if reply.stream_error is not None:
            error = {
                "type": "error",
                "error": {
                    "type": reply.stream_error,
                    "message": reply.stream_error.replace("_", " "),
                },
            }
            events = [*events[:3], _sse("error", error)]
        for n, event in enumerate(events):
            if reply.cut_after_events is not None and n >= reply.cut_after_events:
                await writer.drain()
                writer.transport.abort()
                return False
            writer.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True
