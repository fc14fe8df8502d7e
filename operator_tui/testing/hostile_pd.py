"""A hostile PD impersonator: a loopback server that answers PD's HTTP API with poisoned data.

It serves what the operator reads of PD (``/pd/api/v1/stores``, ``/store/{id}``,
``/members``, ``/health``, ``/cluster``, ``/cluster/status``, ``/config/schedule``,
``/config/replicate``, ``/regions/count``, ``/regions/check/*``, ``/hotspot/regions/*``)
in the shapes PD answers (the captures in ``tests/fixtures/pd``), and each store's
``/metrics`` on the same port (every store's ``status_address`` points back here), with
one hostile ``variant``:

- ``markup``: addresses, labels, versions and member names full of Rich/Textual markup
  (``[/]``, ``[bold red]``, ``[link=file:///etc/passwd]``);
- ``escapes``: terminal escapes (OSC retitle ``ESC ] 0 ; … BEL``, clear screen ``ESC [ 2 J``,
  OSC 8 hyperlinks, 8-bit CSI);
- ``bidi``: BiDi overrides and isolates (U+202E, U+2066), line separators (U+2028, U+0085);
- ``mixed``: one store of each of the three above, and one Down;
- ``huge_label``: a 50 MB label value;
- ``endless``: a ``/stores`` body that never ends;
- ``huge_id``: a store id of 2**64 - 1 beside sane stores;
- ``surrogates``: a lone surrogate (``\\ud800`` as a JSON escape) in one address;
- ``redirect``: every PD route answers 302 to another host;
- ``huge_page``: each store's ``/metrics`` has 1,000,000 series (``series``) of a family the
  operator reads.

The last five are about input caps and tolerant decoding. Run it on its own for a manual
or tmux session::

    python -m operator_tui.testing.hostile_pd --variant mixed --port 23790
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from typing import Any

VARIANTS = (
    "markup",
    "escapes",
    "bidi",
    "mixed",
    "huge_label",
    "endless",
    "huge_id",
    "surrogates",
    "redirect",
    "huge_page",
)
API = "/pd/api/v1"
MARKUP = "[/][bold red]RED[/bold red][link=file:///etc/passwd]click[/link][/]"
ESCAPES = (
    "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b]8;;file:///etc/passwd\x1b\\link\x1b]8;;\x1b\\\x9b2J"
)
BIDI = "\u202eevil\u202c \u2066iso\u2069 line\u2028break\x85next"
HOSTILE = {"markup": MARKUP, "escapes": ESCAPES, "bidi": BIDI}
HUGE_LABEL_BYTES = 50 * 2**20
MAX_ID = 2**64 - 1
HUGE_PAGE_SERIES = 1_000_000
REQUEST_LIMIT = 64 * 1024


def _store(store_id: int, port: int, text: str = "", *, up: bool = True) -> dict[str, Any]:
    now_ns = time.time_ns()
    address = f"127.0.0.1:{20160 + store_id % 1000}{text}"
    return {
        "store": {
            "id": store_id,
            "address": address,
            "version": f"8.5.1{text}",
            "status_address": f"127.0.0.1:{port}",
            "git_hash": text or "0" * 40,
            "start_timestamp": int(time.time()) - 3600,
            "deploy_path": text or "/",
            "last_heartbeat": now_ns if up else now_ns - 3600 * 10**9,
            "labels": [
                {"key": "zone", "value": f"z{store_id}{text}"},
                {"key": text or "k", "value": text},
            ],
            "node_state": 1 if up else 3,
            "state_name": "Up" if up else "Down",
        },
        "status": {
            "capacity": "100GiB",
            "available": "60GiB",
            "used_size": "40GiB",
            "leader_count": 10,
            "leader_weight": 1,
            "leader_score": 10,
            "region_count": 30,
            "region_weight": 1,
            "region_score": 30,
            "slow_score": 1,
        },
    }


class HostilePD:
    """The impersonator for one ``variant``; ``requests`` counts what it was asked, by path."""

    def __init__(
        self, variant: str = "mixed", *, port: int = 0, series: int = HUGE_PAGE_SERIES
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
        self.variant = variant
        self.port = port
        self.series = series
        self.requests: dict[str, int] = {}
        self._server: asyncio.Server | None = None
        self._huge: bytes | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.base_url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def __aenter__(self) -> HostilePD:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ answers
    def text(self) -> str:
        return HOSTILE.get(self.variant, MARKUP + ESCAPES + BIDI)

    def stores(self) -> dict[str, Any]:
        port, v = self.port, self.variant
        if v == "mixed":
            stores = [_store(i + 1, port, HOSTILE[k]) for i, k in enumerate(HOSTILE)]
            stores.append(_store(4, port, MARKUP + ESCAPES, up=False))
        elif v in HOSTILE:
            stores = [_store(i, port, HOSTILE[v], up=i != 3) for i in (1, 2, 3)]
        elif v == "huge_id":
            stores = [_store(1, port), _store(MAX_ID, port, up=False), _store(3, port, up=False)]
        else:
            stores = [_store(i, port, up=i != 3) for i in (1, 2, 3)]
        return {"count": len(stores), "stores": stores}

    def answer(self, path: str) -> Any:
        text = self.text() if self.variant in HOSTILE or self.variant == "mixed" else ""
        name = f"pd-0{text}"
        url = f"http://127.0.0.1:{self.port}"
        if path == "/stores":
            return self.stores()
        if path.startswith("/store/"):
            wanted = path.removeprefix("/store/")
            return next(
                (s for s in self.stores()["stores"] if str(s["store"]["id"]) == wanted),
                {"store": {"id": int(wanted) if wanted.isdigit() else 0}},
            )
        if path == "/members":
            member = {"name": name, "member_id": 7, "client_urls": [url], "peer_urls": [url]}
            return {
                "header": {"cluster_id": 42},
                "members": [member],
                "leader": member,
                "etcd_leader": member,
            }
        if path == "/health":
            return [{"name": name, "member_id": 7, "client_urls": [url], "health": True}]
        if path == "/cluster":
            return {"id": 42, "max_peer_count": 3}
        if path == "/cluster/status":
            return {"raft_bootstrap_time": "2026-01-01T00:00:00Z", "is_initialized": True}
        if path == "/config/schedule":
            return {
                "leader-schedule-limit": 4,
                "region-schedule-limit": 2048,
                "max-store-down-time": f"30m0s{text}",
            }
        if path == "/config/replicate":
            return {"max-replicas": 3, "location-labels": text, "isolation-level": ""}
        if path == "/regions/count":
            return {"count": 90, "regions": None}
        if path.startswith("/regions/check/"):
            return {"count": 0, "regions": None}
        if path.startswith("/hotspot/regions/"):
            stat = {
                "store_id": 1,
                "stores": [1, 2, 3],
                "is_leader": True,
                "region_id": 10,
                "flow_bytes": 1048576.0,
                "flow_keys": 100.0,
            }
            return {
                "as_peer": {"1": {"statistics": [stat]}},
                "as_leader": {"1": {"statistics": [stat]}},
            }
        return None

    def metrics(self) -> bytes:
        """A store's ``/metrics`` page whose label values carry the variant's text."""
        if self.variant == "huge_page":
            if self._huge is None:
                self._huge = (
                    "# TYPE tikv_raftstore_region_count gauge\n"
                    + "".join(
                        f'tikv_raftstore_region_count{{type="r{i}"}} 1\n'
                        for i in range(self.series)
                    )
                ).encode()
            return self._huge
        text = (
            json.dumps(self.text())[1:-1]
            if self.variant in HOSTILE or self.variant == "mixed"
            else ""
        )
        return (
            "# HELP tikv_engine_size_bytes Sizes of each column families\n"
            "# TYPE tikv_engine_size_bytes gauge\n"
            f'tikv_engine_size_bytes{{db="kv",type="default{text}"}} 1024\n'
            "# TYPE process_cpu_seconds_total counter\n"
            f"process_cpu_seconds_total {time.time() % 1000:.3f}\n"
        ).encode()

    # ------------------------------------------------------------------ HTTP
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(1000):
                head = await reader.readuntil(b"\r\n\r\n")
                if len(head) > REQUEST_LIMIT:
                    return
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                method, target = [*line.split(" "), "", ""][:2]
                length = 0
                for header in head.split(b"\r\n")[1:]:
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length" and value.strip().isdigit():
                        length = min(int(value.strip()), REQUEST_LIMIT)
                if length:
                    await reader.readexactly(length)
                path = target.split("?", 1)[0]
                self.requests[path] = self.requests.get(path, 0) + 1
                if not await self._respond(method, path, writer):
                    return
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(self, method: str, path: str, writer: asyncio.StreamWriter) -> bool:
        if path == "/metrics":
            await self._send(writer, 200, self.metrics(), "text/plain; version=0.0.4")
            return True
        if not path.startswith(API):
            await self._send(writer, 404, b"404 page not found\n", "text/plain")
            return True
        route = path.removeprefix(API)
        if self.variant == "redirect":
            await self._send(writer, 302, b"", "text/plain", location="http://198.51.100.1/pd")
            return True
        if method != "GET":
            await self._send(writer, 403, json.dumps("hostile PD refuses writes").encode())
            return True
        if route == "/stores" and self.variant == "endless":
            await self._endless(writer)
            return False
        if route == "/stores" and self.variant == "huge_label":
            await self._send(writer, 200, self._huge_stores())
            return True
        body = self.answer(route)
        if body is None:
            await self._send(writer, 404, b"404 page not found\n", "text/plain")
            return True
        raw = json.dumps(body)
        if route == "/stores" and self.variant == "surrogates":
            raw = raw.replace("127.0.0.1:20161", "127.0.0.1:20161\\ud800", 1)
        await self._send(writer, 200, raw.encode())
        return True

    def _huge_stores(self) -> bytes:
        if self._huge is None:
            body = self.stores()
            body["stores"][0]["store"]["labels"].append(
                {"key": "huge", "value": "x" * HUGE_LABEL_BYTES}
            )
            self._huge = json.dumps(body).encode()
        return self._huge

    async def _endless(self, writer: asyncio.StreamWriter) -> None:
        """A chunked 200 whose JSON array never closes (bounded: an hour, or the peer leaving)."""
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        piece = b'{"count": 3, "stores": [' + b'{"store": {"id": 1, "address": "' + b"a" * 65536
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            await writer.drain()
            piece = b"a" * 65536

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        *,
        location: str | None = None,
    ) -> None:
        reason = {200: "OK", 302: "Found", 403: "Forbidden", 404: "Not Found"}.get(status, "")
        head = [
            f"HTTP/1.1 {status} {reason}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        if location:
            head.append(f"Location: {location}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()


async def _serve_forever(variant: str, port: int, series: int) -> None:
    async with HostilePD(variant, port=port, series=series) as pd:
        pd.metrics()  # built before the first request: a huge page takes a second to build
        print(f"hostile PD ({variant}) on {pd.base_url}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A hostile PD impersonator on loopback.")
    parser.add_argument("--variant", choices=VARIANTS, default="mixed")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--series", type=int, default=HUGE_PAGE_SERIES, help="series on a huge_page page"
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.variant, args.port, args.series))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
