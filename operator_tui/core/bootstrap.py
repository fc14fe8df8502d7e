"""Wiring: settings in, a ready ``OperatorRuntime`` out, everything closed on the way out.

``open_runtime`` loads the subject plugin, optionally starts its embedded demo
cluster, creates the one ``httpx.AsyncClient`` the subject uses, opens the
ticket database (requeueing diagnoses a crash interrupted), picks the
diagnoser and yields the runtime.

The demo uses a fresh database in a temporary directory (deleted on exit), so
every demo starts with an empty ticket queue, unless a database path was set
explicitly (``--db`` or ``OPERATOR_DB_PATH``), which is then used as is.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx

from operator_tui.config import ConfigError, Settings
from operator_tui.core.diagnosis.base import Diagnoser
from operator_tui.core.events import EventBus
from operator_tui.core.registry import load_plugin
from operator_tui.core.runtime import OperatorRuntime
from operator_tui.core.subject import Chaos, DemoOptions, SubjectContext, SubjectPlugin
from operator_tui.core.tickets import TicketStore

log = logging.getLogger(__name__)

HTTP_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


def make_diagnoser(settings: Settings, plugin: SubjectPlugin | None = None) -> Diagnoser:
    """Claude when the settings select it (``auto`` with a key, or ``claude``), else the
    subject's offline diagnoser (``plugin``, or the one ``settings.subject`` names)."""
    if settings.backend != "claude":
        return (plugin or load_plugin(settings.subject)).offline_diagnoser()
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
    if not key:
        raise ConfigError("diagnosis_backend is claude but ANTHROPIC_API_KEY is not set")
    from operator_tui.core.diagnosis.claude import ClaudeDiagnoser, make_client

    return ClaudeDiagnoser(
        make_client(key, settings.anthropic_base_url),
        model=settings.claude_model,
        max_tokens=settings.claude_max_tokens,
    )


def demo_db_path(settings: Settings, tmpdir: str) -> Path:
    if "db_path" in settings.model_fields_set:
        return settings.db_path
    return Path(tmpdir) / "demo-tickets.db"


def log_options(settings: Settings, *, demo: bool) -> dict[str, str]:
    """Subject options naming the log source; ``auto`` keeps the demo's own and reads files when given a dir."""
    source = settings.log_source
    if source == "auto":
        if demo:
            return {}
        source = "file" if settings.log_dir else "none"
    if source == "none":
        return {"log_source": "none"}
    opts = {"log_source": source}
    if settings.log_dir:
        opts["log_dir"] = str(settings.log_dir)
    if source == "docker":
        opts["compose_file"] = str(settings.compose_file)
        opts["compose_project"] = settings.compose_project
    return opts


def _lab_chaos(settings: Settings, http: httpx.AsyncClient) -> Chaos | None:
    """The compose lab's ``docker kill``/``start`` when its compose file is here; else no chaos."""
    if not settings.compose_file.is_file():
        return None
    try:
        from operator_tui.core.deploy_local import LocalDeployment

        return LocalDeployment.from_settings(settings, http)
    except Exception as exc:
        log.info("compose lab chaos unavailable: %s", exc)
        return None


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    demo: DemoOptions | None = None,
    plugin: SubjectPlugin | None = None,
    diagnoser: Diagnoser | None = None,
    bus: EventBus | None = None,
) -> AsyncIterator[OperatorRuntime]:
    """Raises ``SubjectError`` (unknown plugin, demo failed), ``TicketStoreError`` or ``ConfigError``."""
    plugin = plugin or load_plugin(settings.subject)
    diagnoser = diagnoser or make_diagnoser(settings, plugin)
    async with AsyncExitStack() as stack:
        close = getattr(diagnoser, "aclose", None)
        if close is not None:
            stack.push_async_callback(close)
        http = httpx.AsyncClient(timeout=HTTP_TIMEOUT)
        stack.push_async_callback(http.aclose)
        endpoints, prometheus, options = list(settings.pd), settings.prometheus_url, {}
        db_path = settings.db_path
        chaos: Chaos | None
        if demo is not None:
            cluster = await stack.enter_async_context(plugin.demo(demo))
            endpoints, chaos = list(cluster.endpoints), cluster.chaos
            prometheus = cluster.prometheus_url
            options = dict(cluster.extra)
            db_path = demo_db_path(
                settings,
                stack.enter_context(tempfile.TemporaryDirectory(prefix="operator-tui-demo-")),
            )
        else:
            chaos = _lab_chaos(settings, http)
        options.update(log_options(settings, demo=demo is not None))
        options.setdefault("scrape_budget", settings.scrape_budget)
        options.setdefault("scrape_interval_s", settings.scrape_interval_s)
        ctx = SubjectContext(
            http=http,
            endpoints=endpoints,
            prometheus_url=prometheus,
            metrics_source=settings.metrics_source,
            interval_s=settings.interval_s,
            options=options,
        )
        subject = plugin.create(ctx)
        stack.push_async_callback(subject.aclose)
        tickets = await TicketStore.open(db_path, subject=subject.name)
        stack.push_async_callback(tickets.aclose)
        requeued = await tickets.requeue_interrupted()
        if requeued:
            log.info("requeued %d diagnoses interrupted by the last shutdown", len(requeued))
        runtime = OperatorRuntime(settings, subject, tickets, diagnoser, bus=bus, chaos=chaos)
        stack.push_async_callback(runtime.aclose)
        yield runtime
