"""Fuzzing the input edge: hostile PD answers through the client, a whole tick against a
loopback PD (subject, invariants, ticket store), and hostile violations into the store.

The short profile runs here (about 20 s on a busy machine); ``benchmarks/fuzz.py`` runs
the long one. ``OPERATOR_FUZZ_SCALE`` multiplies the numbers of examples.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import httpx
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from operator_tikv.pd import PDClient, PDError
from operator_tikv.pd.models import ID_MAX, LABELS_MAX, TEXT_MAX
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings

from operator_tui.core.subject import SubjectContext, SubjectError
from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import Severity, Violation
from operator_tui.testing.hostile import hostile_id, hostile_text, pd_stores_body

SCALE = float(os.environ.get("OPERATOR_FUZZ_SCALE", "1"))
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
CLIPPED = TEXT_MAX + len("…[+999999999 chars]")


def profile(examples: int):
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        suppress_health_check=SLOW_OK,
        database=None,
    )


def check_store(store) -> None:
    assert 0 <= store.id <= ID_MAX
    for text in (store.address, store.status_address, store.version):
        assert len(text) <= CLIPPED
    assert len(store.labels) <= LABELS_MAX
    assert all(len(k) <= CLIPPED and len(v) <= CLIPPED for k, v in store.labels.items())


async def _read(body: bytes):
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        pd = PDClient(http, ["http://pd:2379"], retries=0)
        try:
            info = await pd.stores()
        except PDError as exc:
            return None, str(exc)
        return [s.to_store() for s in info.stores], pd.take_notes()


@profile(150)
@given(pd_stores_body())
def test_any_stores_answer_is_read_or_refused_in_one_line(body: bytes) -> None:
    stores, notes = asyncio.run(_read(body))
    if stores is None:
        assert "\n" not in notes and notes.startswith("GET http://pd:2379/pd/api/v1/stores: ")
        return
    for store in stores:
        check_store(store)
    assert all("\n" not in n for n in notes)


async def _tick(body: bytes, db_path: Path) -> None:
    from socket import socket

    with socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def handle(request: web.Request) -> web.Response:
        if request.path.endswith("/stores"):
            return web.Response(body=body, content_type="application/json")
        return web.json_response("404 page not found", status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        settings_ = TikvSettings(
            pd=[f"127.0.0.1:{port}"],
            pd_retries=0,
            metrics_source="none",
            invariants={"grace_scale": 0},
        )
        async with httpx.AsyncClient() as http:
            subject = plugin.create(SubjectContext(http=http, settings=settings_, interval_s=1.0))
            try:
                snap = await subject.observe()
            except SubjectError as exc:
                assert "\n" not in str(exc)
                return
            finally:
                await subject.aclose()
        for store in snap.stores:
            check_store(store)
        violations = subject.evaluate(snap)
        db = await TicketStore.open(db_path, subject="tikv")
        try:
            await db.upsert_violations(violations, {"taken_at": "x", "stores": []})
            storable = {v.key for v in violations}
            assert await db.count_tickets() == len(storable) - db.failed_rows
        finally:
            await db.aclose()
    finally:
        await runner.cleanup()


@profile(12)
@given(pd_stores_body(max_stores=4))
def test_a_tick_on_any_stores_answer_ends_in_a_snapshot_or_one_line(body: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_tick(body, Path(tmp) / "t.db"))


violation = st.builds(
    Violation,
    invariant=st.sampled_from(("store_down", "low_disk")) | hostile_text(300),
    severity=st.sampled_from(list(Severity)),
    message=hostile_text(20_000),
    store_id=st.none() | hostile_id(),
)


async def _store(batches: list[list[Violation]], db_path: Path) -> None:
    db = await TicketStore.open(db_path, subject="tikv")
    try:
        for batch in batches:
            await db.upsert_violations(batch, {"note": batch[0].message if batch else ""})
        for ticket in await db.list_tickets():
            assert ticket.store_id is None or -(2**63) <= ticket.store_id < 2**63
    finally:
        await db.aclose()


@profile(40)
@given(st.lists(st.lists(violation, max_size=5), min_size=1, max_size=3))
def test_the_ticket_store_takes_any_violations(batches: list[list[Violation]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_store(batches, Path(tmp) / "t.db"))
