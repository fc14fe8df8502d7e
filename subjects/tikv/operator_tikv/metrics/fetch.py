"""Fetching ``/metrics`` pages from the stores' status ports, one GET per store per tick.

Two fetchers give the same ``Page`` or ``FetchError``. ``HttpxFetcher`` goes
through the injected ``httpx.AsyncClient`` (proxies from the environment, a
mock transport in tests). ``StreamFetcher`` speaks just enough HTTP/1.1 over an
asyncio stream for a status port: Content-Length, chunked and close-delimited
bodies, gzip and deflate, keep-alive, https with the system's CAs. On this path
httpx costs about 1.1 ms of CPU per request (client, httpcore and anyio layers)
and its pool scans every idle connection on each request; a stream costs about
0.3 ms with a new connection and 0.19 ms on a kept one, and a direct-mode tick
is one request per store.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from isal import isal_zlib

from operator_tikv.capped import AnswerTooLarge, get_capped
from operator_tikv.pd.client import describe_transport_error

DECODE_INLINE_BYTES = 1 << 20
"""Bodies up to this size are inflated and decoded on the loop (a real page: 60 KB gzipped,
0.8 ms); larger ones on a thread, since 46 MB of text takes 30-40 ms to decode."""

_RESOLUTION_ERRORS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo failed",
    "[errno -2]",
    "[errno -3]",
    "[errno -5]",
)


@dataclass(slots=True)
class Page:
    status: int
    text: str


class FetchError(Exception):
    """The page could not be read; ``reachable`` says whether something answered on the port.

    ``unresolved`` marks a host name this machine cannot resolve, which says
    nothing about the store (PD may hand out names only its own network knows).
    """

    def __init__(
        self, message: str, *, reachable: bool, unresolved: bool = False, too_large: bool = False
    ) -> None:
        super().__init__(message)
        self.reachable = reachable
        self.unresolved = unresolved
        self.too_large = too_large


class PageFetcher(Protocol):
    async def get(self, url: str, timeout_s: float) -> Page: ...

    def peer_closed(self, url: str) -> bool:
        """True when a connection kept to ``url``'s host and port was closed by the other end.

        A store's process that dies has its sockets closed by the kernel, so this
        sees a dead store without reading its page. False when nothing is known.
        """
        ...

    async def aclose(self) -> None: ...


def is_name_resolution_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _RESOLUTION_ERRORS)


class HttpxFetcher:
    """Through the core's shared client: honours its transport, proxies and limits."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        headers: dict[str, str] | None = None,
        max_bytes: int = 64 << 20,
    ) -> None:
        self.max_bytes = max_bytes
        self._http = http
        # One connection per scrape: with a connection kept per store, httpcore checks every
        # idle one on each request, which costs more CPU than a new connection.
        self._headers = {"connection": "close", **(headers or {})}

    async def get(self, url: str, timeout_s: float) -> Page:
        try:
            response = await get_capped(
                self._http,
                url,
                max_bytes=self.max_bytes,
                timeout_s=timeout_s,
                headers=self._headers,
            )
        except AnswerTooLarge as exc:
            raise FetchError(str(exc), reachable=True, too_large=True) from None
        except httpx.ConnectError as exc:
            if is_name_resolution_error(exc):
                raise FetchError(str(exc), reachable=True, unresolved=True) from None
            raise FetchError(describe_transport_error(exc), reachable=False) from None
        except httpx.HTTPError as exc:
            raise FetchError(describe_transport_error(exc), reachable=False) from None
        return Page(response.status_code, response.text)

    def peer_closed(self, url: str) -> bool:
        """No connection is kept between scrapes, so there is nothing to watch."""
        return False

    async def aclose(self) -> None:
        """The client belongs to the core, which closes it."""


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class StreamFetcher:
    """GETs over asyncio streams, one kept-alive connection per store, bounded in time and size.

    A connection is reused only when the last answer was complete and did not
    ask to close; one that the store closed in between is dropped and the GET
    retried once on a new connection. A kept connection saves a TCP handshake
    and teardown per store per tick (about 0.12 ms of CPU on loopback). One left
    unused for ``keepalive_expiry_s`` (a store removed, or moved to a new
    address) is closed, so a long-running operator holds no stale sockets.

    ``compressed=False`` asks for the page as is: a real-sized page then costs
    about 0.35 ms less CPU to receive (0.56 instead of 0.91 ms: no inflating)
    but moves 692 KB instead of 50-60 KB.
    """

    def __init__(
        self,
        *,
        max_bytes: int = 64 << 20,
        max_header_lines: int = 200,
        max_idle: int = 4096,
        keepalive_expiry_s: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = "operator-tui",
        clock: Callable[[], float] = time.monotonic,
        compressed: bool = True,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_header_lines = max_header_lines
        self.max_idle = max_idle
        self.keepalive_expiry_s = keepalive_expiry_s
        self._ssl_context = ssl_context
        self._user_agent = user_agent
        self._clock = clock
        self._accept_encoding = "gzip, deflate" if compressed else "identity"
        self._idle: dict[tuple[str, str, int], tuple[Connection, float]] = {}
        # URL -> connection key, so ``peer_closed`` costs two dict lookups, not a URL parse.
        self._keys: dict[str, tuple[str, str, int]] = {}
        self._swept = clock()

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    def _take(self, key: tuple[str, str, int]) -> Connection | None:
        """The kept connection for ``key`` if it is still usable; expired ones are closed."""
        now = self._clock()
        if now - self._swept >= self.keepalive_expiry_s:
            self._swept = now
            for stale in [
                k for k, (_c, at) in self._idle.items() if now - at > self.keepalive_expiry_s
            ]:
                self._idle.pop(stale)[0][1].close()
        kept = self._idle.pop(key, None)
        if kept is None:
            return None
        (reader, writer), at = kept
        if now - at > self.keepalive_expiry_s or reader.at_eof() or writer.is_closing():
            writer.close()
            return None
        return reader, writer

    def peer_closed(self, url: str) -> bool:
        """Whether the connection kept for ``url`` has seen EOF or been lost (see ``PageFetcher``).

        The event loop feeds EOF to the reader as soon as the peer's FIN or RST
        arrives, so this reads no socket. A store that merely closed an idle
        connection also shows True; its next read opens a new one.
        """
        key = self._keys.get(url)
        if key is None:
            return False
        kept = self._idle.get(key)
        if kept is None:
            return False
        (reader, writer), _at = kept
        return reader.at_eof() or writer.is_closing()

    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    async def get(self, url: str, timeout_s: float) -> Page:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"cannot fetch {url!r}: not an http(s) URL", reachable=True)
        secure = parts.scheme == "https"
        host = parts.hostname
        try:
            port = parts.port or (443 if secure else 80)
        except ValueError:
            raise FetchError(f"cannot fetch {url!r}: bad port", reachable=True) from None
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authority = parts.netloc.rpartition("@")[2]
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {self._user_agent}\r\n"
            "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\n"
            f"Accept-Encoding: {self._accept_encoding}\r\n\r\n"
        ).encode("latin-1")
        key = (parts.scheme, host, port)
        if len(self._keys) >= self.max_idle and url not in self._keys:
            self._keys.clear()
        self._keys[url] = key
        try:
            async with asyncio.timeout(timeout_s):
                kept = self._take(key)
                if kept is not None:
                    try:
                        return await self._exchange(key, kept, request)
                    except (asyncio.IncompleteReadError, ConnectionError):
                        pass  # closed by the store while idle: once more on a new connection
                conn = await asyncio.open_connection(
                    host, port, ssl=self._ssl() if secure else None
                )
                return await self._exchange(key, conn, request)
        except TimeoutError:
            raise FetchError("timed out", reachable=False) from None
        except FetchError:
            raise
        except ConnectionRefusedError:
            raise FetchError("connection refused", reachable=False) from None
        except socket.gaierror as exc:
            raise FetchError(str(exc), reachable=True, unresolved=True) from None
        except ssl.SSLError as exc:
            raise FetchError(f"TLS: {exc.reason or exc}", reachable=True) from None
        except asyncio.IncompleteReadError:
            raise FetchError("connection closed mid-response", reachable=False) from None
        except (asyncio.LimitOverrunError, ValueError) as exc:
            raise FetchError(f"malformed HTTP response ({exc})", reachable=True) from None
        except OSError as exc:
            if is_name_resolution_error(exc):
                raise FetchError(str(exc), reachable=True, unresolved=True) from None
            message = exc.strerror or str(exc) or type(exc).__name__
            raise FetchError(message, reachable=False) from None

    async def _exchange(self, key: tuple[str, str, int], conn: Connection, request: bytes) -> Page:
        """One request on ``conn``; the connection is kept only after a complete, reusable answer."""
        reader, writer = conn
        keep = False
        try:
            writer.write(request)
            status, headers, version = await self._head(reader)
            body, delimited = await self._body(reader, headers)
            tokens = headers.get("connection", "").lower()
            keep = (
                delimited
                and "close" not in tokens
                and (version != "HTTP/1.0" or "keep-alive" in tokens)
            )
            if len(body) > DECODE_INLINE_BYTES:
                return Page(status, await asyncio.to_thread(self._decode, body, headers))
            return Page(status, self._decode(body, headers))
        finally:
            if keep and len(self._idle) < self.max_idle and key not in self._idle:
                self._idle[key] = (conn, self._clock())
            else:
                writer.close()

    async def _head(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, str], str]:
        while True:
            line = await reader.readline()
            if not line:
                raise asyncio.IncompleteReadError(b"", None)
            version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
            code = rest[:3]
            if not version.startswith("HTTP/1.") or not code.isdigit():
                raise ValueError(f"status line {line[:60]!r}")
            headers: dict[str, str] = {}
            for _ in range(self.max_header_lines):
                raw = await reader.readline()
                if not raw:
                    raise asyncio.IncompleteReadError(b"", None)
                if raw in (b"\r\n", b"\n"):
                    break
                name, sep, value = raw.decode("latin-1").partition(":")
                if not sep:
                    raise ValueError(f"header line {raw[:60]!r}")
                key = name.strip().lower()
                value = value.strip()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            else:
                raise ValueError(f"more than {self.max_header_lines} header lines")
            if not code.startswith("1"):
                return int(code), headers, version

    async def _body(
        self, reader: asyncio.StreamReader, headers: dict[str, str]
    ) -> tuple[bytes, bool]:
        """The body, and whether its end was framed (so the connection can carry another GET)."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return await self._chunked(reader), True
        length = headers.get("content-length")
        if length is not None:
            size = int(length.split(",")[0])
            if size < 0:
                raise ValueError(f"Content-Length {length}")
            self._check_size(size)
            return await reader.readexactly(size), True
        body = await reader.read(self.max_bytes + 1)
        chunks = [body]
        total = len(body)
        while body:
            self._check_size(total)
            body = await reader.read(self.max_bytes + 1 - total)
            chunks.append(body)
            total += len(body)
        return b"".join(chunks), False

    async def _chunked(self, reader: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = await reader.readline()
            if not line:
                raise asyncio.IncompleteReadError(b"", None)
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                for _ in range(self.max_header_lines):
                    trailer = await reader.readline()
                    if trailer in (b"\r\n", b"\n", b""):
                        break
                return b"".join(chunks)
            total += size
            self._check_size(total)
            chunks.append(await reader.readexactly(size))
            if (await reader.readline()).strip():
                raise ValueError("chunk not followed by CRLF")

    def _check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise FetchError(
                f"page larger than {self.max_bytes} bytes", reachable=True, too_large=True
            )

    def _decode(self, body: bytes, headers: dict[str, str]) -> str:
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            # 47: gzip or zlib header, detected; -15: raw deflate, which some servers send.
            # ISA-L inflates a real page 3.7-5.8x faster than zlib (see docs/tick-cost.md).
            for wbits in (47, -15):
                inflater = isal_zlib.decompressobj(wbits)
                try:
                    text = inflater.decompress(body, self.max_bytes + 1)
                except isal_zlib.error:
                    continue
                if len(text) > self.max_bytes or inflater.unconsumed_tail:
                    raise FetchError(
                        f"page larger than {self.max_bytes} bytes", reachable=True, too_large=True
                    )
                body = text
                break
            else:
                raise FetchError(f"body is not valid {encoding}", reachable=True)
        elif encoding not in ("", "identity"):
            raise FetchError(f"unsupported Content-Encoding {encoding!r}", reachable=True)
        charset = "utf-8"
        for param in headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return body.decode(charset, errors="replace")
        except LookupError:
            return body.decode("utf-8", errors="replace")

    async def aclose(self) -> None:
        """Close the kept connections."""
        idle, self._idle = self._idle, {}
        for (_reader, writer), _at in idle.values():
            writer.close()
