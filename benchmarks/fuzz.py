"""The long fuzz profile of the input edge, with figures.

    uv run python benchmarks/fuzz.py [--examples 2000] [--ticks 100]

Feeds hostile ``/stores`` answers (``operator_tui.testing.hostile``) through the PD
client, whole ticks against a loopback PD through the invariants into a ticket store,
and hostile violations into the store; then times the strict and the lenient read of a
1000-store answer and the memory an endless answer costs under the default cap. Any
exception other than the one-line refusals fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from operator_tikv.pd import PDClient, PDError
from operator_tikv.pd.client import MAX_ANSWER_BYTES
from operator_tikv.pd.models import ID_MAX
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings

from operator_tui.core.subject import SubjectContext, SubjectError
from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import Severity, Violation
from operator_tui.testing.hostile import hostile_id, hostile_text, pd_stores_body

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pd" / "stores.json"
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
figures: Counter[str] = Counter()


def profile(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=SLOW_OK, database=None)


async def read(body: bytes) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        pd = PDClient(http, ["http://pd:2379"], retries=0)
        try:
            info = await pd.stores()
        except PDError as exc:
            assert "\n" not in str(exc)
            figures["answers refused"] += 1
            return
        figures["answers read"] += 1
        figures["stores kept"] += len(info.stores)
        figures["items dropped"] += pd.repairs["dropped"]
        figures["chars replaced"] += pd.repairs["replaced"]
        for entry in info.stores:
            assert 0 <= entry.to_store().id <= ID_MAX


async def tick(body: bytes, port: int, db: TicketStore, server: dict[str, bytes]) -> None:
    server["body"] = body
    cfg = TikvSettings(
        pd=[f"127.0.0.1:{port}"], pd_retries=0, metrics_source="none", invariants={"grace_scale": 0}
    )
    async with httpx.AsyncClient() as http:
        subject = plugin.create(SubjectContext(http=http, settings=cfg, interval_s=1.0))
        try:
            snap = await subject.observe()
        except SubjectError as exc:
            assert "\n" not in str(exc)
            figures["ticks refused"] += 1
            return
        finally:
            await subject.aclose()
    violations = subject.evaluate(snap)
    await db.upsert_violations(violations, {"taken_at": "x", "stores": []})
    figures["ticks observed"] += 1
    figures["violations"] += len(violations)


async def loopback(server: dict[str, bytes]) -> tuple[web.AppRunner, int]:
    from socket import socket

    with socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def handle(request: web.Request) -> web.Response:
        if request.path.endswith("/stores"):
            return web.Response(body=server["body"], content_type="application/json")
        return web.json_response("404 page not found", status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


def big_answer(n: int, bad_at: int | None) -> bytes:
    template = json.loads(FIXTURE.read_text())["stores"][0]
    entries = []
    for i in range(n):
        entry = json.loads(json.dumps(template))
        entry["store"]["id"] = 2**63 if i == bad_at else i + 1
        entries.append(entry)
    return json.dumps({"count": n, "stores": entries}).encode()


async def timed_read(body: bytes, rounds: int = 20) -> float:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        pd = PDClient(http, ["http://pd:2379"], retries=0)
        started = time.perf_counter()
        for _ in range(rounds):
            await pd.stores()
        return (time.perf_counter() - started) / rounds


async def endless_rss() -> tuple[float, str]:
    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b'{"stores": [' + b" " * (1 << 20)
        for _ in range(2048):  # 2 GiB at most
            try:
                await response.write(chunk)
            except (ConnectionError, RuntimeError):
                break
        return response

    from socket import socket

    with socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        async with httpx.AsyncClient() as http:
            pd = PDClient(http, [f"127.0.0.1:{port}"], retries=0, call_budget_s=5)
            try:
                await pd.stores()
                message = "read?!"
            except PDError as exc:
                message = str(exc)
    finally:
        await runner.cleanup()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (after - before) / 1024, message


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--ticks", type=int, default=100)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # each repair is logged; the counts are printed below

    # First, while the peak RSS is still the start-up one.
    rss_mb, message = asyncio.run(endless_rss())
    started = time.perf_counter()

    @profile(args.examples)
    @given(pd_stores_body())
    def answers(body: bytes) -> None:
        asyncio.run(read(body))

    answers()
    t_answers = time.perf_counter() - started

    async def ticks() -> None:
        server = {"body": b"{}"}
        runner, port = await loopback(server)
        with tempfile.TemporaryDirectory() as tmp:
            db = await TicketStore.open(Path(tmp) / "t.db", subject="tikv")
            bodies: list[bytes] = []

            @profile(args.ticks)
            @given(pd_stores_body(max_stores=6))
            def collect(body: bytes) -> None:
                bodies.append(body)

            collect()
            for body in bodies:
                await tick(body, port, db, server)
            figures["ticket rows left out"] += db.failed_rows
            figures["tickets stored"] += await db.count_tickets()
            await db.aclose()
        await runner.cleanup()

    started = time.perf_counter()
    asyncio.run(ticks())
    t_ticks = time.perf_counter() - started

    violation = st.builds(
        Violation,
        invariant=st.sampled_from(("store_down", "low_disk")) | hostile_text(300),
        severity=st.sampled_from(list(Severity)),
        message=hostile_text(20_000),
        store_id=st.none() | hostile_id(),
    )

    async def store(batch: list[Violation]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            db = await TicketStore.open(Path(tmp) / "t.db", subject="tikv")
            await db.upsert_violations(batch, {})
            figures["violation rows left out"] += db.failed_rows
            await db.aclose()

    @profile(max(1, args.examples // 4))
    @given(st.lists(violation, min_size=1, max_size=8))
    def violations(batch: list[Violation]) -> None:
        asyncio.run(store(batch))

    started = time.perf_counter()
    violations()
    t_store = time.perf_counter() - started

    clean = asyncio.run(timed_read(big_answer(1000, None)))
    one_bad = asyncio.run(timed_read(big_answer(1000, 500)))

    print(f"PD answers: {args.examples} in {t_answers:.1f} s")
    print(f"ticks against a loopback PD: {args.ticks} in {t_ticks:.1f} s")
    print(f"ticket store batches: {max(1, args.examples // 4)} in {t_store:.1f} s")
    for name, value in sorted(figures.items()):
        print(f"  {name}: {value}")
    print(f"/stores of 1000 stores: strict read {clean * 1000:.1f} ms")
    print(
        f"/stores of 1000 stores, one id of 2^63: lenient read {one_bad * 1000:.1f} ms "
        f"({one_bad / clean:.1f}x)"
    )
    print(
        f"endless answer, cap {MAX_ANSWER_BYTES >> 20} MiB: peak RSS +{rss_mb:.0f} MiB; {message}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
