"""Wiring: settings in, a ready ``OperatorRuntime`` out, everything closed on the way out.

``open_runtime`` loads the subject plugin, optionally starts its embedded demo
cluster (whose ``DemoCluster.settings`` are applied over the subject's section),
creates the one ``httpx.AsyncClient`` the subject uses, opens the ticket database
(requeueing diagnoses a crash interrupted), picks the diagnoser and yields the
runtime. It lives beside ``config`` rather than in core: it is where settings meet
the core's neutral types.

The demo uses a fresh database in a temporary directory (deleted on exit), so
every demo starts with an empty ticket queue, unless a database path was set
explicitly (``--db`` or ``OPERATOR_STORAGE__DB_PATH``), which is then used as is.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from operator_tui import __version__
from operator_tui.config import ConfigError, Settings, section_with
from operator_tui.core.deploy import Deployment, DeploymentOptions, DeployUnavailable
from operator_tui.core.diagnosis import backends
from operator_tui.core.diagnosis.base import Diagnoser
from operator_tui.core.events import EventBus
from operator_tui.core.faults import FindsSimulator
from operator_tui.core.plugin import SubjectPlugin
from operator_tui.core.recorder import Recorder
from operator_tui.core.recording import Recording
from operator_tui.core.registry import load_plugin
from operator_tui.core.replay import ReplayRuntime
from operator_tui.core.runtime import OperatorRuntime, RuntimeOptions
from operator_tui.core.subject import (
    Chaos,
    DemoOptions,
    Subject,
    SubjectContext,
    SubjectError,
)
from operator_tui.core.tickets import TicketStore

log = logging.getLogger(__name__)

HTTP_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


def make_diagnoser(settings: Settings, plugin: SubjectPlugin | None = None) -> Diagnoser:
    """Claude when the settings select it (``auto`` with a key, or ``claude``), else the
    subject's offline diagnoser (``plugin``, or the one ``settings.subject`` names)."""
    d = settings.diagnosis
    if d.resolved_backend != backends.CLAUDE:
        return (plugin or load_plugin(settings.subject)).offline_diagnoser()
    key = d.api_key.get_secret_value() if d.api_key else ""
    if not key:
        raise ConfigError("diagnosis.backend is claude but ANTHROPIC_API_KEY is not set")
    from operator_tui.core.diagnosis.claude import ClaudeDiagnoser, LoopBounds, Price, make_client

    price = d.price_of(d.claude_model)
    return ClaudeDiagnoser(
        make_client(key, d.base_url),
        model=d.claude_model,
        max_tokens=d.max_tokens,
        bounds=LoopBounds(d.max_tool_calls, d.max_seconds, d.max_loop_tokens),
        price=Price(*price) if price else None,
    )


def runtime_options(settings: Settings) -> RuntimeOptions:
    return RuntimeOptions(
        interval_s=settings.monitor.interval_s,
        actions_mode=settings.actions.mode,
        agent_concurrency=settings.diagnosis.concurrency,
        agent_max_retries=settings.diagnosis.max_retries,
        wake_per_second=settings.monitor.wake_per_second,
    )


def subject_section(settings: Settings, plugin: SubjectPlugin) -> Any:
    """The plugin's section of ``settings``; settings loaded for another subject are an error."""
    section = getattr(settings, plugin.name, None)
    if not isinstance(section, plugin.settings_model):
        raise ConfigError(
            f"settings have no {plugin.name} section: load them with that subject's plugin"
        )
    return section


def demo_db_path(settings: Settings, tmpdir: str) -> Path:
    if "db_path" in settings.storage.model_fields_set:
        return settings.storage.db_path
    return Path(tmpdir) / "demo-tickets.db"


def open_lab(
    settings: Settings,
    http: httpx.AsyncClient,
    plugin: SubjectPlugin | None = None,
    *,
    directory: Path | None = None,
) -> Deployment:
    """The subject's lab as its settings section describes it; ``DeployError`` (one line) when
    there is none."""
    try:
        plugin = plugin or load_plugin(settings.subject)
    except SubjectError as exc:
        raise DeployUnavailable(str(exc)) from None
    section = getattr(settings, plugin.name, None)
    deployment = plugin.deployment(
        DeploymentOptions(settings=section, http=http, directory=directory)
    )
    if deployment is None:
        raise DeployUnavailable(f"the {plugin.name} subject has no lab to deploy")
    return deployment


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    host = "loopback" if host in LOOPBACK else host
    return f"{parts.scheme.lower()}://{host}:{parts.port or ''}"


def configured_elsewhere(section: Any, lab: Deployment) -> list[str]:
    """The URLs the user set in the subject's section (explicitly, not by default) that are
    none of the lab's published endpoints: the operator is watching another cluster."""
    try:
        lab_origins = {_origin(e.url) for e in lab.endpoints()}
    except Exception as exc:
        log.info("lab endpoints unknown: %s", exc)
        lab_origins = set()
    found: list[str] = []
    for name in sorted(getattr(section, "model_fields_set", ())):
        value = getattr(section, name, None)
        for item in value if isinstance(value, list | tuple) else (value,):
            if isinstance(item, str) and "://" in item and _origin(item) not in lab_origins:
                found.append(item)
    return found


def _lab_chaos(
    settings: Settings, http: httpx.AsyncClient, plugin: SubjectPlugin, section: Any
) -> Chaos | None:
    """The lab's kill and start when the subject has a lab here and the operator watches that
    lab (or ``actions.allow_chaos`` says so); else no chaos: a key must not break a lab
    while the screen shows another cluster."""
    try:
        lab = open_lab(settings, http, plugin)
    except Exception as exc:
        log.info("lab chaos unavailable: %s", exc)
        return None
    elsewhere = configured_elsewhere(section, lab)
    if elsewhere and not settings.actions.allow_chaos:
        log.info("chaos refused: watching %s, not the lab (--allow-chaos allows it)", elsewhere[0])
        return None
    return lab


async def _simulator_chaos(
    plugin: SubjectPlugin, section: Any, http: httpx.AsyncClient
) -> Chaos | None:
    """The subject's simulator control when the configured endpoints are its simulator: it is
    there to be broken, so its kill, start and faults work without a lab or --allow-chaos."""
    if not isinstance(plugin, FindsSimulator):
        return None
    try:
        found = await plugin.simulator(section, http)
    except Exception as exc:
        log.info("no simulator found: %s", exc)
        return None
    if found is not None:
        log.info("the configured cluster is the subject's simulator: faults available")
    return found


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    demo: DemoOptions | None = None,
    plugin: SubjectPlugin | None = None,
    diagnoser: Diagnoser | None = None,
    bus: EventBus | None = None,
    record: Path | None = None,
) -> AsyncIterator[OperatorRuntime]:
    """Raises ``SubjectError`` (unknown plugin, demo failed), ``TicketStoreError``,
    ``ConfigError`` or ``RecorderError`` (``record``: the flight recorder's file)."""
    plugin = plugin or load_plugin(settings.subject)
    section = subject_section(settings, plugin)
    diagnoser = diagnoser or make_diagnoser(settings, plugin)
    async with AsyncExitStack() as stack:
        close = getattr(diagnoser, "aclose", None)
        if close is not None:
            stack.push_async_callback(close)
        http = httpx.AsyncClient(timeout=HTTP_TIMEOUT)
        stack.push_async_callback(http.aclose)
        db_path = settings.storage.db_path
        chaos: Chaos | None
        if demo is not None:
            cluster = await stack.enter_async_context(plugin.demo(demo))
            chaos = cluster.chaos
            section = section_with(section, cluster.settings)
            db_path = demo_db_path(
                settings,
                stack.enter_context(tempfile.TemporaryDirectory(prefix="operator-tui-demo-")),
            )
        else:
            chaos = await _simulator_chaos(plugin, section, http)
            if chaos is None:
                chaos = _lab_chaos(settings, http, plugin, section)
        ctx = SubjectContext(http=http, settings=section, interval_s=settings.monitor.interval_s)
        subject = plugin.create(ctx)
        stack.push_async_callback(subject.aclose)
        tickets = await TicketStore.open(db_path, subject=subject.name)
        stack.push_async_callback(tickets.aclose)
        requeued = await tickets.requeue_interrupted()
        if requeued:
            log.info("requeued %d diagnoses interrupted by the last shutdown", len(requeued))
        runtime = OperatorRuntime(
            runtime_options(settings),
            subject,
            tickets,
            diagnoser,
            bus=bus,
            chaos=chaos,
            lab=lambda lab_http: open_lab(settings, lab_http, plugin),
        )
        stack.push_async_callback(runtime.aclose)
        if record is not None:
            recorder = Recorder(record, recording_meta(settings, plugin, section, demo is not None))
            stack.push_async_callback(recorder.aclose)
            runtime.record_to(recorder)
        yield runtime


def recording_meta(
    settings: Settings, plugin: SubjectPlugin, section: Any, demo: bool
) -> dict[str, Any]:
    """What a recording says of the run that made it (``Recorder`` drops the secrets)."""
    return {
        "operator_version": __version__,
        "subject": plugin.name,
        "interval_s": settings.monitor.interval_s,
        "demo": demo,
        "settings": settings.model_dump(mode="json"),
        "subject_settings": section.model_dump(mode="json"),
    }


def recorded_section(plugin: SubjectPlugin, recording: Recording) -> Any:
    """The subject's settings section as the recording kept it, else its defaults."""
    try:
        return plugin.settings_model.model_validate(recording.meta.get("subject_settings") or {})
    except ValueError as exc:
        log.info("recorded %s settings do not validate (%s): defaults used", plugin.name, exc)
        return plugin.settings_model()


@asynccontextmanager
async def open_replay(
    settings: Settings,
    path: Path,
    *,
    rediagnose: bool = False,
    speed: float = 1.0,
    until_end: bool = False,
    bus: EventBus | None = None,
    diagnoser: Diagnoser | None = None,
    checkpoints: bool = True,
    checkpoint_every_s: float | None = None,
) -> AsyncIterator[ReplayRuntime]:
    """A ``ReplayRuntime`` over the recording at ``path``, with the subject it names (its
    declarations; its invariants under ``rediagnose``, with today's diagnoser), seeking
    through checkpoints unless ``checkpoints`` is false.

    Raises ``RecordingError`` or ``SubjectError``."""
    probe = await asyncio.to_thread(Recording, path)
    probe.close()
    plugin = load_plugin(probe.subject or settings.subject)
    section = recorded_section(plugin, probe)
    async with AsyncExitStack() as stack:
        http = httpx.AsyncClient(timeout=HTTP_TIMEOUT)
        stack.push_async_callback(http.aclose)

        def make_subject() -> Subject:
            return plugin.create(
                SubjectContext(http=http, settings=section, interval_s=probe.interval_s)
            )

        first = make_subject()
        records = first.describe().records
        await first.aclose()
        recording = await asyncio.to_thread(Recording, path, records)
        stack.callback(recording.close)
        if rediagnose and diagnoser is None:
            diagnoser = make_diagnoser(settings, plugin)
            close = getattr(diagnoser, "aclose", None)
            if close is not None:
                stack.push_async_callback(close)
        workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="operator-replay-"))
        runtime = await ReplayRuntime.open(
            recording,
            make_subject,
            Path(workdir),
            diagnoser=diagnoser,
            rediagnose=rediagnose,
            speed=speed,
            until_end=until_end,
            bus=bus,
            options=runtime_options(settings),
            checkpoints=checkpoints,
            **({} if checkpoint_every_s is None else {"checkpoint_every_s": checkpoint_every_s}),
        )
        stack.push_async_callback(runtime.aclose)
        yield runtime


async def open_recording(settings: Settings, path: Path) -> Recording:
    """The recording at ``path``, read back as its subject's own records."""
    probe = await asyncio.to_thread(Recording, path)
    probe.close()
    plugin = load_plugin(probe.subject or settings.subject)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
        subject = plugin.create(SubjectContext(http=http, settings=recorded_section(plugin, probe)))
        records = subject.describe().records
        await subject.aclose()
    return await asyncio.to_thread(Recording, path, records)
