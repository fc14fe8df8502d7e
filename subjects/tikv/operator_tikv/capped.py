"""A GET whose body is read up to a cap: a store or log route that answers without end (or
with hundreds of megabytes) is refused in one line instead of filling memory.

PD's answers have their own cap in ``pd/client.py``; this one serves the store metrics pages
read over httpx and the HTTP log route.
"""

from __future__ import annotations

from typing import Any

import httpx

# Headers that describe the body as it came over the wire, not the decoded copy returned.
_WIRE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class AnswerTooLarge(Exception):
    """The body passed the cap; the message names the URL and the cap."""


async def get_capped(
    http: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    timeout_s: float,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """The response with its (decoded) body read in full, or ``AnswerTooLarge`` once more
    than ``max_bytes`` arrive (or are announced)."""
    async with http.stream("GET", url, params=params, headers=headers, timeout=timeout_s) as resp:
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise AnswerTooLarge(
                f"{url}: answer of {declared} bytes is over the cap of {max_bytes}"
            )
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.aiter_bytes():
            total += len(chunk)
            if total > max_bytes:
                raise AnswerTooLarge(f"{url}: answer larger than the cap of {max_bytes} bytes")
            chunks.append(chunk)
        kept = [(k, v) for k, v in resp.headers.items() if k.lower() not in _WIRE_HEADERS]
        return httpx.Response(
            resp.status_code, headers=kept, content=b"".join(chunks), request=resp.request
        )
