"""The stream fetcher against raw loopback servers: framing, encodings and every failure mode."""

from __future__ import annotations

import asyncio
import gzip
import socket
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from operator_tikv.metrics.fetch import (
    DECODE_INLINE_BYTES,
    FetchError,
    HttpxFetcher,
    Page,
    StreamFetcher,
)

PAGE = 'tikv_store_size_bytes{type="capacity"} 1.5e+11\n# HELP x y\nprocess_cpu_seconds_total 12\n'


@asynccontextmanager
async def serve(
    response: bytes | None, *, close: bool = True, seen: list[bytes] | None = None
) -> AsyncIterator[str]:
    """A server that reads one request head, answers ``response`` as is, then closes (or hangs)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if seen is not None:
            seen.append(head)
        if response is not None:
            writer.write(response)
            await writer.drain()
        if close:
            writer.close()
        else:
            await asyncio.sleep(5)
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        server.close()


async def fetch_once(url: str, timeout_s: float, **options) -> Page:
    fetcher = StreamFetcher(**options)
    try:
        return await fetcher.get(url, timeout_s)
    finally:
        await fetcher.aclose()


def http_response(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(body: bytes, sizes: list[int]) -> bytes:
    out, i = b"", 0
    for size in sizes:
        part = body[i : i + size]
        if not part:
            break
        out += f"{len(part):x};ext=1\r\n".encode() + part + b"\r\n"
        i += len(part)
    if i < len(body):
        out += f"{len(body) - i:X}\r\n".encode() + body[i:] + b"\r\n"
    return out + b"0\r\nX-Trailer: 1\r\n\r\n"


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-15)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize(
    "response",
    [
        http_response(PAGE.encode(), f"Content-Length: {len(PAGE)}"),
        http_response(PAGE.encode()),
        http_response(chunked(PAGE.encode(), [5, 17, 1]), "Transfer-Encoding: chunked"),
        http_response(
            gzip.compress(PAGE.encode()),
            "Content-Encoding: gzip",
            f"Content-Length: {len(gzip.compress(PAGE.encode()))}",
        ),
        http_response(zlib.compress(PAGE.encode()), "Content-Encoding: deflate"),
        http_response(raw_deflate(PAGE.encode()), "Content-Encoding: deflate"),
        http_response(
            chunked(gzip.compress(PAGE.encode()), [10, 3]),
            "Transfer-Encoding: chunked",
            "Content-Encoding: gzip",
        ),
        b"HTTP/1.1 100 Continue\r\n\r\n"
        + http_response(PAGE.encode(), f"content-length: {len(PAGE)}"),
        http_response(PAGE.encode("utf-16"), "Content-Type: text/plain; charset=utf-16"),
    ],
    ids=[
        "length",
        "close",
        "chunked",
        "gzip",
        "zlib",
        "raw-deflate",
        "chunked-gzip",
        "100",
        "utf16",
    ],
)
async def test_reads_every_framing_and_encoding(response):
    seen: list[bytes] = []
    async with serve(response, seen=seen) as url:
        page = await fetch_once(url + "?x=1", 2.0)
    assert (page.status, page.text) == (200, PAGE)
    head = seen[0].decode()
    assert head.startswith("GET /metrics?x=1 HTTP/1.1\r\n")
    assert f"Host: {url.split('/')[2]}\r\n" in head and "Accept-Encoding: gzip" in head


async def test_status_other_than_200_is_returned():
    async with serve(http_response(b"no", "Content-Length: 2", status="503 Busy")) as url:
        page = await fetch_once(url, 2.0)
    assert (page.status, page.text) == (503, "no")


async def test_refused_port_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError) as err:
        await fetch_once(f"http://127.0.0.1:{port}/metrics", 2.0)
    assert str(err.value) == "connection refused" and not err.value.reachable


async def test_silent_server_times_out():
    async with serve(None, close=False) as url:
        with pytest.raises(FetchError) as err:
            await fetch_once(url, 0.2)
    assert str(err.value) == "timed out" and not err.value.reachable


async def test_cut_body_is_a_closed_connection():
    async with serve(http_response(b"abc", "Content-Length: 10")) as url:
        with pytest.raises(FetchError) as err:
            await fetch_once(url, 2.0)
    assert str(err.value) == "connection closed mid-response" and not err.value.reachable


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "malformed HTTP response"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed HTTP response"),
        (http_response(b"zz\r\n", "Transfer-Encoding: chunked"), "malformed HTTP response"),
        (http_response(b"garbage", "Content-Encoding: gzip"), "body is not valid gzip"),
        (http_response(b"x", "Content-Encoding: br"), "unsupported Content-Encoding 'br'"),
        (http_response(b"x" * 100), "page larger than 64 bytes"),
        (http_response(gzip.compress(b"x" * 100), "Content-Encoding: gzip"), "larger than 64"),
        (http_response(b"", "Content-Length: 100"), "page larger than 64 bytes"),
    ],
    ids=["not-http", "bad-header", "bad-chunk", "bad-gzip", "brotli", "big", "gzip-bomb", "length"],
)
async def test_answers_that_are_not_pages_say_why(response, message):
    async with serve(response) as url:
        with pytest.raises(FetchError) as err:
            await fetch_once(url, 2.0, max_bytes=64)
    assert message in str(err.value) and err.value.reachable
    assert err.value.too_large == ("larger than" in message)


async def test_a_body_over_a_megabyte_is_decoded_the_same_off_the_loop(monkeypatch):
    threads = []
    to_thread = asyncio.to_thread

    async def spy(func, *args):
        threads.append(func.__name__)
        return await to_thread(func, *args)

    monkeypatch.setattr(asyncio, "to_thread", spy)
    text = "x" * (DECODE_INLINE_BYTES + 10) + "é"
    body = text.encode()
    async with serve(http_response(body, f"Content-Length: {len(body)}")) as url:
        page = await fetch_once(url, 10.0)
    async with serve(http_response(b"small", "Content-Length: 5")) as url:
        small = await fetch_once(url, 10.0)
    assert page.text == text and small.text == "small" and threads == ["_decode"]


async def test_unresolvable_host_is_marked(monkeypatch):
    async def no_dns(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(asyncio, "open_connection", no_dns)
    with pytest.raises(FetchError) as err:
        await fetch_once("http://tikv-9:20180/metrics", 2.0)
    assert err.value.unresolved and err.value.reachable


@pytest.mark.parametrize("url", ["ftp://x/metrics", "http:///metrics", "http://h:99999/m"])
async def test_bad_urls(url):
    with pytest.raises(FetchError, match="cannot fetch"):
        await fetch_once(url, 1.0)


@settings(max_examples=40, deadline=None)
@given(
    body=st.text(st.characters(codec="utf-8"), max_size=300),
    sizes=st.lists(st.integers(1, 40), max_size=8),
    gzipped=st.booleans(),
)
async def test_stream_and_httpx_fetchers_agree(body, sizes, gzipped):
    data = body.encode()
    headers = ["Content-Type: text/plain; charset=utf-8", "Transfer-Encoding: chunked"]
    if gzipped:
        data = gzip.compress(data)
        headers.append("Content-Encoding: gzip")
    response = http_response(chunked(data, sizes), *headers)
    async with serve(response) as url, httpx.AsyncClient() as http:
        by_stream = await fetch_once(url, 2.0)
        by_httpx = await HttpxFetcher(http).get(url, 2.0)
    assert by_stream == by_httpx
    assert by_stream.text == body


@asynccontextmanager
async def keepalive_server(
    *, close_idle_after: int | None = None, head: str = "HTTP/1.1 200 OK", reset: bool = False
) -> AsyncIterator[tuple[str, list[int]]]:
    """Answers every request on a connection; ``counts[i]`` is how many connection i carried.

    On exit its connections are closed (FIN), or reset (RST) with ``reset``.
    """
    counts: list[int] = []
    open_writers: list[asyncio.StreamWriter] = []
    body = PAGE.encode()
    response = f"{head}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counts.append(0)
        open_writers.append(writer)
        me = len(counts) - 1
        try:
            while close_idle_after is None or counts[me] < close_idle_after:
                try:
                    await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                counts[me] += 1
                writer.write(response)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/metrics", counts
    finally:
        server.close()
        for writer in open_writers:  # as a process that exits: its connections go too
            if reset:
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.close()


async def test_connection_is_kept_between_pages():
    fetcher = StreamFetcher()
    async with keepalive_server() as (url, counts):
        for _ in range(3):
            assert (await fetcher.get(url, 2.0)).text == PAGE
        await fetcher.aclose()
    assert counts == [3]


async def test_a_connection_the_store_closed_is_replaced():
    fetcher = StreamFetcher()
    async with keepalive_server(close_idle_after=1) as (url, counts):
        for _ in range(3):
            assert (await fetcher.get(url, 2.0)).text == PAGE
            await asyncio.sleep(0.05)
        await fetcher.aclose()
    assert counts == [1, 1, 1]


async def test_a_closed_connection_not_yet_seen_is_retried_once():
    fetcher = StreamFetcher()
    async with keepalive_server(close_idle_after=1) as (url, counts):
        assert (await fetcher.get(url, 2.0)).text == PAGE
        assert (await fetcher.get(url, 2.0)).text == PAGE  # no pause: the EOF may not be seen yet
        await fetcher.aclose()
    assert counts == [1, 1]


@pytest.mark.parametrize(
    "head",
    ["HTTP/1.1 200 OK\r\nConnection: close", "HTTP/1.0 200 OK"],
    ids=["close", "http-1.0"],
)
async def test_answers_that_end_the_connection_are_not_reused(head):
    fetcher = StreamFetcher()
    async with keepalive_server(head=head) as (url, counts):
        for _ in range(2):
            assert (await fetcher.get(url, 2.0)).text == PAGE
        await fetcher.aclose()
    assert len(counts) == 2


async def test_a_dead_store_behind_a_kept_connection_is_refused():
    fetcher = StreamFetcher()
    async with keepalive_server() as (url, _counts):
        assert (await fetcher.get(url, 2.0)).text == PAGE
    await asyncio.sleep(0.05)
    with pytest.raises(FetchError) as err:
        await fetcher.get(url, 2.0)
    assert str(err.value) == "connection refused" and not err.value.reachable
    await fetcher.aclose()


async def test_connections_unused_for_the_expiry_are_closed():
    now = [0.0]
    fetcher = StreamFetcher(keepalive_expiry_s=60, clock=lambda: now[0])
    async with keepalive_server() as (first, counts), keepalive_server() as (second, counts2):
        await fetcher.get(first, 2.0)
        await fetcher.get(second, 2.0)
        assert fetcher.idle_connections == 2
        now[0] = 30.0
        await fetcher.get(second, 2.0)  # the first store is no longer read (removed, moved)
        now[0] = 70.0
        await fetcher.get(second, 2.0)
        assert fetcher.idle_connections == 1  # the first's connection went in the sweep
        now[0] = 200.0
        await fetcher.get(second, 2.0)  # expired itself: a new connection, not a stale one
        await fetcher.aclose()
    assert counts == [1] and counts2 == [3, 1]
    assert fetcher.idle_connections == 0


async def wait_until(predicate, timeout_s: float = 2.0) -> None:
    for _ in range(int(timeout_s / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"not within {timeout_s} s")


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_peer_closed_sees_the_store_end_a_kept_connection(reset):
    fetcher = StreamFetcher()
    async with keepalive_server() as (alive, _counts):
        async with keepalive_server(reset=reset) as (dying, _counts2):
            assert not fetcher.peer_closed(dying)  # never read: nothing known
            await fetcher.get(dying, 2.0)
            await fetcher.get(alive, 2.0)
            await asyncio.sleep(0.02)
            assert not fetcher.peer_closed(dying) and not fetcher.peer_closed(alive)
        await wait_until(lambda: fetcher.peer_closed(dying))
        assert not fetcher.peer_closed(alive)
        with pytest.raises(FetchError, match="connection refused"):
            await fetcher.get(dying, 2.0)
        assert not fetcher.peer_closed(dying)  # nothing kept any more
        await fetcher.aclose()


async def test_a_store_that_closed_an_idle_connection_answers_the_read_it_triggers():
    fetcher = StreamFetcher()
    async with keepalive_server(close_idle_after=1) as (url, counts):
        assert (await fetcher.get(url, 2.0)).text == PAGE
        await wait_until(lambda: fetcher.peer_closed(url))
        assert (await fetcher.get(url, 2.0)).text == PAGE
        await fetcher.aclose()
    assert counts == [1, 1]


async def test_httpx_fetcher_never_reports_a_closed_peer():
    async with serve(http_response(PAGE.encode())) as url, httpx.AsyncClient() as http:
        fetcher = HttpxFetcher(http)
        assert (await fetcher.get(url, 2.0)).text == PAGE
        await asyncio.sleep(0.02)
        assert not fetcher.peer_closed(url)


async def test_an_uncompressed_fetcher_asks_for_identity():
    seen: list[bytes] = []
    async with serve(http_response(PAGE.encode()), seen=seen) as url:
        assert (await fetch_once(url, 2.0, compressed=False)).text == PAGE
        assert (await fetch_once(url, 2.0)).text == PAGE
    assert b"Accept-Encoding: identity\r\n" in seen[0]
    assert b"Accept-Encoding: gzip, deflate\r\n" in seen[1]
