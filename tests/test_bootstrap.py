"""open_runtime: plugin, demo, one HTTP client, ticket store, diagnoser choice, everything closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from operator_tui import bootstrap
from operator_tui.bootstrap import make_diagnoser, open_runtime
from operator_tui.config import ConfigError, Settings, load_settings
from operator_tui.core.diagnosis.claude import ClaudeDiagnoser
from operator_tui.core.diagnosis.rules import RuleDiagnoser
from operator_tui.core.subject import DemoCluster, DemoOptions, SubjectError
from operator_tui.core.tickets import TicketStore, TicketStoreError
from operator_tui.testing.fake_subject import FakeChaos, FakePlugin

pytestmark = pytest.mark.usefixtures("clean_env")


def fake_settings(plugin: FakePlugin, **kw: object) -> Settings:
    return load_settings(plugin=plugin, **kw)


async def test_configured_cluster(tmp_path: Path) -> None:
    plugin = FakePlugin()
    s = fake_settings(
        plugin,
        storage={"db_path": tmp_path / "x" / "t.db"},
        fake={"endpoints": ["http://10.0.0.1:2379"]},
        monitor={"interval_s": 3},
        actions={"mode": "approve"},
        diagnosis={"concurrency": 5, "max_retries": 1},
    )
    async with open_runtime(s, plugin=plugin) as rt:
        assert rt.chaos is None and rt.subject is plugin.subject
        assert (rt.interval_s, rt.actions_mode) == (3, "approve")
        assert (rt.options.agent_concurrency, rt.options.agent_max_retries) == (5, 1)
        [ctx] = plugin.contexts
        assert ctx.settings is s.subject_settings and not ctx.http.is_closed
        assert ctx.settings.endpoints == ["http://10.0.0.1:2379"] and ctx.interval_s == 3
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
    s = fake_settings(plugin)
    async with open_runtime(s, demo=DemoOptions(max_store_down_time_s=60)) as rt:
        assert isinstance(rt.chaos, FakeChaos)
        assert plugin.contexts[0].settings.endpoints == ["http://127.0.0.1:1"]
        assert s.subject_settings.endpoints == ["http://127.0.0.1:2379"]
        db = rt.tickets.path
        assert db != s.storage.db_path and db.exists()
        await rt.kill_store(2)
    assert not db.exists()
    assert plugin.demo_options is not None and plugin.demo_options.max_store_down_time_s == 60


async def test_demo_with_explicit_db(tmp_path: Path) -> None:
    plugin = FakePlugin()
    s = fake_settings(plugin, db_path=tmp_path / "demo.db")
    async with open_runtime(s, demo=DemoOptions(), plugin=plugin) as rt:
        assert rt.tickets.path == tmp_path / "demo.db"


async def test_bad_db_is_an_error_and_untouched(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 100)
    plugin = FakePlugin()
    with pytest.raises(TicketStoreError):
        async with open_runtime(fake_settings(plugin, db_path=bad), plugin=plugin):
            pass
    assert bad.read_bytes() == b"garbage" * 100
    assert plugin.contexts[0].http.is_closed and plugin.subject.closed


async def test_unknown_subject(tmp_path: Path) -> None:
    with pytest.raises(SubjectError, match="unknown subject"):
        async with open_runtime(Settings(subject="nope", db_path=tmp_path / "t.db")):
            pass


async def test_settings_of_another_subject_are_refused(tmp_path: Path) -> None:
    plugin = FakePlugin()
    with pytest.raises(ConfigError, match="no fake section"):
        async with open_runtime(load_settings(db_path=tmp_path / "t.db"), plugin=plugin):
            pass
    assert plugin.contexts == []


async def test_demo_overrides_are_validated(tmp_path: Path) -> None:
    plugin = FakePlugin()

    @asynccontextmanager
    async def bad_demo(options: DemoOptions) -> AsyncIterator[DemoCluster]:
        yield DemoCluster(endpoints=[], chaos=FakeChaos(plugin.subject), settings={"nope": 1})

    plugin.demo = bad_demo  # type: ignore[method-assign]
    with pytest.raises(ConfigError, match="invalid setting nope"):
        async with open_runtime(fake_settings(plugin), demo=DemoOptions(), plugin=plugin):
            pass


def test_diagnoser_choice() -> None:
    def settings(**diagnosis: object) -> Settings:
        return Settings(diagnosis=diagnosis)

    assert isinstance(make_diagnoser(settings(backend="auto")), RuleDiagnoser)
    claude = make_diagnoser(
        settings(api_key="sk-x", base_url="http://127.0.0.1:9", claude_model="m1", max_tokens=999)
    )
    assert isinstance(claude, ClaudeDiagnoser)
    assert (claude.model, claude.max_tokens, str(claude.client.base_url)) == (
        "m1",
        999,
        "http://127.0.0.1:9",
    )
    assert isinstance(make_diagnoser(settings(backend="offline", api_key="sk-x")), RuleDiagnoser)
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        make_diagnoser(settings(backend="claude"))


async def test_tikv_section_reaches_the_subject(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPERATOR_TIKV__SCRAPE_INTERVAL_S", "30")
    s = load_settings(
        db_path=tmp_path / "t.db",
        pd="http://10.0.0.1:2379",
        compose_file=tmp_path / "none.yml",
        scrape_budget=7,
    )
    async with open_runtime(s) as rt:
        assert rt.subject.cfg is s.tikv
        assert rt.subject.direct.budget == 7
        assert rt.subject.direct.scrape_interval_s == 30.0
        assert rt.subject.pd.endpoints == ["http://10.0.0.1:2379"]


class LabHere(FakeChaos):
    """A lab whose API is published on loopback port 2379."""

    name, project = "fake-lab", "lab"

    def endpoints(self) -> list:
        from operator_tui.core.deploy import Endpoint

        return [Endpoint("API", "http://127.0.0.1:2379")]


@pytest.mark.parametrize(
    ("endpoints", "allow", "chaos"),
    [
        (None, None, True),  # nothing configured: the default is the lab
        (["http://localhost:2379/"], None, True),  # the lab, written another way
        (["http://10.0.0.1:2379"], None, False),  # a configured cluster: no chaos keys
        (["http://10.0.0.1:2379"], True, True),  # unless --allow-chaos says so
    ],
)
async def test_chaos_keys_only_against_the_lab_or_when_allowed(
    tmp_path: Path, monkeypatch, endpoints, allow, chaos
) -> None:
    plugin = FakePlugin()
    lab = LabHere(plugin.subject)
    monkeypatch.setattr(plugin, "deployment", lambda options: lab, raising=False)
    section = {"endpoints": endpoints} if endpoints else {}
    s = fake_settings(
        plugin, storage={"db_path": tmp_path / "t.db"}, fake=section, allow_chaos=allow
    )
    async with open_runtime(s, plugin=plugin) as rt:
        assert (rt.chaos is lab) is chaos


async def test_anthropic_base_url_points_the_loop_at_another_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A local or proxied model that speaks the Messages API: ANTHROPIC_BASE_URL and a
    free-text model name are all it takes; the whole diagnosis goes there."""
    from operator_tui.core.diagnosis.context import build_context
    from operator_tui.testing.messages_api import MessagesAPIServer, Reply
    from operator_tui.testing.samples import diagnosis_input
    from operator_tui.testing.tickets import ticket_for

    plugin = FakePlugin()
    fake = plugin.subject
    fake.kill(2)
    snap = await fake.observe()
    [violation] = [v for v in fake.evaluate(snap) if v.store_id == 2][:1]
    context = build_context(ticket_for(violation, snap.taken_at), fake, snap, history=fake.history)
    async with MessagesAPIServer(model="my-local-model:7b") as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-local")
        monkeypatch.setenv("OPERATOR_CLAUDE_MODEL", "my-local-model:7b")
        diagnoser = make_diagnoser(fake_settings(plugin), plugin)
        assert isinstance(diagnoser, ClaudeDiagnoser) and diagnoser.price is None
        api.enqueue(Reply.message("## Observation\n\nstore 2\n", tool_input=diagnosis_input()))

        async def sink(_text: str) -> None:
            return None

        try:
            outcome = await diagnoser.diagnose(context, sink)
        finally:
            await diagnoser.aclose()
    [request] = api.requests
    assert request.path == "/v1/messages" and request.body["model"] == "my-local-model:7b"
    assert outcome.diagnosis.target == 2 and outcome.input_tokens == 120
    assert outcome.cost_usd is None  # a model the price table does not list has no estimate
