"""open_runtime: plugin, demo, one HTTP client, ticket store, diagnoser choice, everything closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_tui.config import ConfigError, Settings
from operator_tui.core import bootstrap
from operator_tui.core.bootstrap import make_diagnoser, open_runtime
from operator_tui.core.diagnosis.claude import ClaudeDiagnoser
from operator_tui.core.diagnosis.rules import RuleDiagnoser
from operator_tui.core.subject import DemoOptions, SubjectError
from operator_tui.core.tickets import TicketStore, TicketStoreError
from operator_tui.testing.fake_subject import FakeChaos, FakePlugin


async def test_configured_cluster(tmp_path: Path) -> None:
    plugin = FakePlugin()
    s = Settings(
        db_path=tmp_path / "x" / "t.db",
        pd="http://10.0.0.1:2379",
        compose_file=tmp_path / "none.yml",
    )
    async with open_runtime(s, plugin=plugin) as rt:
        assert rt.chaos is None and rt.subject is plugin.subject and rt.settings is s
        [ctx] = plugin.contexts
        assert ctx.endpoints == ["http://10.0.0.1:2379"] and not ctx.http.is_closed
        assert isinstance(rt.diagnoser, RuleDiagnoser)
        plugin.subject.kill(1)
        await rt.tick_once()
    assert ctx.http.is_closed and plugin.subject.closed
    store = await TicketStore.open(tmp_path / "x" / "t.db")
    assert [t.invariant for t in await store.list_tickets()] == ["store_down"]
    await store.aclose()


async def test_demo_uses_its_endpoints_chaos_and_a_throwaway_db(
    tmp_path: Path, monkeypatch
) -> None:
    plugin = FakePlugin()
    monkeypatch.setattr(bootstrap, "load_plugin", lambda name: plugin)
    s = Settings()
    async with open_runtime(s, demo=DemoOptions(max_store_down_time_s=60)) as rt:
        assert isinstance(rt.chaos, FakeChaos)
        assert plugin.contexts[0].endpoints == ["http://127.0.0.1:1"]
        assert plugin.contexts[0].options == {
            "log_source": "sim",
            "scrape_budget": "auto",
            "scrape_interval_s": 15.0,
        }
        db = rt.tickets.path
        assert db != s.db_path and db.exists()
        await rt.kill_store(2)
    assert not db.exists()
    assert plugin.demo_options is not None and plugin.demo_options.max_store_down_time_s == 60


async def test_demo_with_explicit_db(tmp_path: Path) -> None:
    s = Settings(db_path=tmp_path / "demo.db")
    async with open_runtime(s, demo=DemoOptions(), plugin=FakePlugin()) as rt:
        assert rt.tickets.path == tmp_path / "demo.db"


async def test_bad_db_is_an_error_and_untouched(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 100)
    plugin = FakePlugin()
    with pytest.raises(TicketStoreError):
        async with open_runtime(Settings(db_path=bad), plugin=plugin):
            pass
    assert bad.read_bytes() == b"garbage" * 100
    assert plugin.contexts[0].http.is_closed and plugin.subject.closed


async def test_unknown_subject(tmp_path: Path) -> None:
    with pytest.raises(SubjectError, match="unknown subject"):
        async with open_runtime(Settings(subject="nope", db_path=tmp_path / "t.db")):
            pass


def test_diagnoser_choice() -> None:
    assert isinstance(
        make_diagnoser(Settings(diagnosis_backend="auto", anthropic_api_key=None)), RuleDiagnoser
    )
    claude = make_diagnoser(
        Settings(
            anthropic_api_key="sk-x",
            anthropic_base_url="http://127.0.0.1:9",
            claude_model="m1",
            claude_max_tokens=999,
        )
    )
    assert isinstance(claude, ClaudeDiagnoser)
    assert (claude.model, claude.max_tokens, str(claude.client.base_url)) == (
        "m1",
        999,
        "http://127.0.0.1:9",
    )
    assert isinstance(
        make_diagnoser(Settings(diagnosis_backend="offline", anthropic_api_key="sk-x")),
        RuleDiagnoser,
    )
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        make_diagnoser(Settings(diagnosis_backend="claude", anthropic_api_key=None))


async def test_scrape_budget_setting_reaches_the_subject(tmp_path: Path) -> None:
    plugin = FakePlugin()
    s = Settings(
        db_path=tmp_path / "t.db",
        pd="http://10.0.0.1:2379",
        compose_file=tmp_path / "none.yml",
        scrape_budget=7,
        scrape_interval_s=30,
    )
    async with open_runtime(s, plugin=plugin):
        [ctx] = plugin.contexts
        assert ctx.options["scrape_budget"] == 7
        assert ctx.options["scrape_interval_s"] == 30.0
