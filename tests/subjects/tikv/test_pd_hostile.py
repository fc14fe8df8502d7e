"""PD answers from a hostile or broken PD: bad ids, bad characters, redirects, endless bodies."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from operator_tikv.pd import PDClient, PDError
from operator_tikv.pd.models import TEXT_MAX
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings

from operator_tui.core.subject import SubjectContext
from operator_tui.core.tickets import TicketStore


def make(fake_pd, http, **options):
    options.setdefault("pd_retries", 0)
    options.setdefault("scrape_client", "httpx")
    options.setdefault("metrics_source", "none")
    settings = TikvSettings(pd=list(fake_pd.endpoints), **options)
    return plugin.create(SubjectContext(http=http, settings=settings, interval_s=1.0))


def stores(tk, *overrides):
    return tk.stores_body([{"store": o} for o in overrides])


async def test_an_id_beyond_63_bits_drops_that_store_and_the_down_one_gets_its_ticket(
    fake_pd, mock_http, tk, tmp_path: Path
):
    """Finding 1: a store id of 2^63 stopped all ticketing, real Down stores included."""
    fake_pd.overrides["/pd/api/v1/stores"] = (
        200,
        stores(
            tk,
            {"id": 1, "state_name": "Up"},
            {"id": 2**63, "address": "evil:20160"},
            {"id": 7, "state_name": "Down", "address": "down:20160"},
            {"id": 2**64 + 1, "address": "worse:20160"},
        ),
    )
    subject = make(fake_pd, mock_http, invariants={"grace_scale": 0})
    snap = await subject.observe()
    assert sorted(s.id for s in snap.stores) == [1, 7]
    assert snap.extra["pd_items_dropped"] == 2
    note = next(e for e in snap.errors if "dropped 2 item(s)" in e)
    assert "stores.1 (store.id" in note and "\n" not in note
    violations = subject.evaluate(snap)
    assert any(v.store_id == 7 for v in violations)
    db = await TicketStore.open(tmp_path / "t.db", subject="tikv")
    try:
        changes = await db.upsert_violations(violations, {})
        assert any(t.store_id == 7 for c, t in changes if c == "opened")
    finally:
        await db.aclose()


async def test_a_lone_surrogate_in_one_address_is_replaced_not_the_answer_refused(
    fake_pd, mock_http, tk
):
    """Finding 7: one bad address made the whole /stores answer 'malformed'."""
    body = stores(tk, {"id": 1, "address": "SURROGATE"}, {"id": 4}).replace(
        b"SURROGATE", b"a\\ud800b"
    )
    fake_pd.overrides["/pd/api/v1/stores"] = (200, body)
    snap = await make(fake_pd, mock_http).observe()
    assert {s.id: s.address for s in snap.stores}[1] == "a\ufffdb"
    assert snap.extra["pd_chars_replaced"] == 1
    assert any("replaced 1 bad character" in e for e in snap.errors)


async def test_bytes_that_are_not_utf8_and_raw_controls_are_read(fake_pd, mock_http, tk):
    body = stores(tk, {"id": 1, "address": "BAD"}, {"id": 4, "version": "CTRL"})
    body = body.replace(b"BAD", b"a\xff\xfeb").replace(b"CTRL", b"v\x01\x1b[2J")
    fake_pd.overrides["/pd/api/v1/stores"] = (200, body)
    got = {s.id: s for s in (await make(fake_pd, mock_http).observe()).stores}
    assert got[1].address == "a\ufffd\ufffdb" and got[4].version == "v\x01\x1b[2J"


async def test_a_redirect_is_refused_by_name(fake_pd, mock_http):
    """Finding 7: a 302 was reported as 'malformed JSON'."""
    fake_pd.overrides["/pd/api/v1/members"] = (302, "")
    pd = PDClient(mock_http, fake_pd.endpoints, retries=0)
    with pytest.raises(PDError) as err:
        await pd.members()
    assert "redirect refused (HTTP 302)" in str(err.value)
    assert "malformed" not in str(err.value)


async def test_long_text_is_clipped_with_a_marker(fake_pd, mock_http, tk):
    """Finding 4: a 50 MB label was kept whole (576 MB RSS, 100 MB per ticket)."""
    label = [{"key": "zone", "value": "z" * 100_000}] + [
        {"key": f"k{i}", "value": "v"} for i in range(200)
    ]
    fake_pd.overrides["/pd/api/v1/stores"] = (
        200,
        stores(tk, {"id": 1, "address": "a" * 10_000, "labels": label}),
    )
    (store,) = (await make(fake_pd, mock_http).observe()).stores
    assert len(store.address) < TEXT_MAX + 30 and store.address.endswith("chars]")
    assert store.labels["zone"].endswith(f"+{100_000 - TEXT_MAX} chars]")
    assert len(store.labels) == 64


async def test_pd_error_text_is_one_bounded_line(fake_pd, mock_http):
    fake_pd.overrides["/pd/api/v1/members"] = (500, json.dumps("x\n" * 100_000))
    pd = PDClient(mock_http, fake_pd.endpoints, retries=0)
    with pytest.raises(PDError) as err:
        await pd.members()
    assert "\n" not in str(err.value) and len(str(err.value)) < 500


class Endless:
    """A loopback server whose answers are larger than any cap: declared or streamed."""

    def __init__(self, tk) -> None:
        self.port = tk.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.sent = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/regions/count"):
            return web.Response(body=b'{"count": 123456, "regions": [' + b" " * 300_000 + b"]}")
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b'{"count": 1, "stores": [' + b" " * 65536
        for _ in range(2000):  # bounded: 130 MB at most
            try:
                await response.write(chunk)
            except (ConnectionError, RuntimeError):
                break
            self.sent += len(chunk)
        return response

    async def __aenter__(self):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc):
        await self.runner.cleanup()


async def test_an_endless_answer_is_refused_at_the_cap(tk):
    """Finding 4: an endless body reached 1.0-1.4 GB RSS within the tick budget."""
    async with Endless(tk) as server, httpx.AsyncClient() as http:
        pd = PDClient(http, [server.url], retries=0, max_answer_bytes=256 << 10)
        with pytest.raises(PDError) as err:
            await pd.stores()
        assert "answer larger than the cap of 262144 bytes" in str(err.value)
        assert "\n" not in str(err.value)
        assert await pd.region_count() == 123456


def test_the_cap_is_a_setting():
    assert TikvSettings().pd_max_answer_bytes == 8 << 20
    assert TikvSettings(pd_max_answer_bytes=1 << 20).pd_max_answer_bytes == 1 << 20


async def test_credentials_in_a_pd_url_are_masked_in_messages(fake_pd, mock_http):
    fake_pd.dead.add("http://pd1:2379")
    pd = PDClient(mock_http, ["http://admin:hunter2@pd1:2379"], retries=0)
    with pytest.raises(Exception) as err:
        await pd.stores()
    assert "hunter2" not in str(err.value) and "admin:****@pd1" in str(err.value)


async def test_one_bad_hot_region_entry_is_dropped_alone(fake_pd, mock_http):
    body = {
        "as_leader": {
            "1": {
                "statistics": [
                    {"store_id": 1, "region_id": 7, "flow_bytes": 5, "is_leader": True},
                    {"store_id": 1, "region_id": 2**64, "flow_bytes": 9, "is_leader": True},
                ]
            },
            "99999999999999999999999": {"statistics": []},
        },
        "as_peer": None,
    }
    fake_pd.overrides["/pd/api/v1/hotspot/regions/write"] = (200, json.dumps(body))
    pd = PDClient(mock_http, fake_pd.endpoints, retries=0)
    hot = (await pd.hot_write_regions()).leader_regions()
    assert [h.range_id for h in hot] == [7]
    (note,) = pd.take_notes()
    assert "dropped 2 item(s)" in note and pd.repairs["dropped"] == 2
