"""Store metrics pages and the HTTP log route are read up to a cap, never without end."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import httpx
import pytest
from operator_tikv.capped import AnswerTooLarge, get_capped
from operator_tikv.metrics.fetch import FetchError, HttpxFetcher


async def _endless() -> AsyncIterator[bytes]:
    for _ in range(1_000_000):
        yield b"tikv_x 1\n" * 1000


def _client(handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_an_endless_body_is_refused_at_the_cap() -> None:
    async with _client(lambda r: httpx.Response(200, content=_endless())) as http:
        with pytest.raises(AnswerTooLarge, match="cap of 100000 bytes"):
            await get_capped(http, "http://s/metrics", max_bytes=100_000, timeout_s=5)
        page_error = None
        try:
            await HttpxFetcher(http, max_bytes=100_000).get("http://s/metrics", 5)
        except FetchError as exc:
            page_error = exc
        assert page_error is not None and page_error.reachable


async def test_an_announced_size_over_the_cap_is_refused_before_reading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": "999999999"}, content=b"x")

    async with _client(handler) as http:
        with pytest.raises(AnswerTooLarge, match="999999999"):
            await get_capped(http, "http://s/logs", max_bytes=1000, timeout_s=5)


async def test_a_body_under_the_cap_reads_whole_and_decoded() -> None:
    body = b"line one\nline two\n"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-encoding": "gzip", "content-type": "text/plain"},
            content=gzip.compress(body),
        )

    async with _client(handler) as http:
        response = await get_capped(http, "http://s/logs", max_bytes=1000, timeout_s=5)
    assert response.status_code == 200 and response.content == body
    assert response.headers["content-type"] == "text/plain"
