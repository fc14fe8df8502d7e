"""Replay: the same runtime, monitor, ticket store, incidents and event bus, fed from a recording.

A ``ReplaySubject`` answers ``observe`` with the recorded snapshot of the tick being played
(or the recorded failure to observe), so the monitor, the ticket store and the incident
grouping run exactly as they ran live and publish the same events to the same front ends.
By default the subject also answers ``evaluate`` with the violations recorded at that tick
and a ``RecordedDiagnoser`` hands back the diagnosis recorded for a ticket when the replay
reaches the moment it was made: replay shows what the operator concluded then. With
``rediagnose`` the subject of today evaluates its invariants over the recorded snapshots
and today's diagnoser diagnoses each ticket right after the tick that opened it: what this
release concludes from the same observations.

``ReplayRuntime`` is an ``OperatorRuntime`` whose monitor loop is a player: it plays the
recorded ticks at ``speed`` times their recorded pace, pauses and resumes like the live
monitor, steps one tick either way and seeks to a time or to the next incident. A seek
restores the newest checkpoint (``core.replay_checkpoints``) at or before the target when
that is nearer than where the player stands, else starts over (backwards) or carries on
(forwards), and plays up to the target without pacing. Checkpoints are built in the
background by a second player and kept beside the recording; without them (a build not yet
there, or ``rediagnose``, whose invariants keep a memory of their own in today's subject)
seeking works as before, only slower. Actions are never run on a recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from operator_tui.core.diagnosis.base import (
    Diagnoser,
    DiagnosisError,
    DiagnosisOutcome,
    TextSink,
)
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.schema import Diagnosis
from operator_tui.core.events import EventBus
from operator_tui.core.recording import RecordedTick, Recording, at
from operator_tui.core.replay_checkpoints import (
    EVERY_S,
    Checkpoint,
    CheckpointFile,
    beside,
    boundaries,
    open_checkpoints,
)
from operator_tui.core.runtime import OperatorRuntime, RuntimeOptions
from operator_tui.core.subject import Subject, SubjectConfig, SubjectUnreachable
from operator_tui.core.tickets import TicketStore
from operator_tui.core.tools import ToolStep
from operator_tui.core.types import (
    ActionResult,
    ClusterMetrics,
    HotRegion,
    Snapshot,
    Store,
    StoreMetrics,
    Violation,
)

log = logging.getLogger(__name__)

MIN_SPEED = 0.5
MAX_SPEED = 60.0
LONGEST_WAIT_S = 60.0
NOT_RUN = "replay: actions are not run on a recording"


class ReplaySubject:
    """The recorded subject: one recorded tick at a time (``tick``, set by the player)."""

    def __init__(self, inner: Subject, *, rediagnose: bool) -> None:
        self.inner = inner
        self.name = inner.name
        self.rediagnose = rediagnose
        self.tick: RecordedTick | None = None

    def describe(self) -> SubjectConfig:
        """The subject's declarations, without the tools that read the live system: a
        replay's diagnosis looks only at what the recording holds."""
        config = self.inner.describe()
        return replace(config, tools=tuple(t for t in config.tools if not t.live))

    def _snapshot(self) -> Snapshot:
        if self.tick is None or self.tick.snapshot is None:
            raise SubjectUnreachable(
                (self.tick.error if self.tick else None) or "replay: nothing recorded"
            )
        return self.tick.snapshot

    async def observe(self) -> Snapshot:
        return self._snapshot()

    def evaluate(self, snapshot: Snapshot) -> list[Violation]:
        if self.rediagnose:
            return self.inner.evaluate(snapshot)
        if self.tick is None or self.tick.violations is None:
            raise RuntimeError("the invariants failed on this tick when it was recorded")
        return list(self.tick.violations)

    async def get_stores(self) -> list[Store]:
        return list(self._snapshot().stores)

    async def get_hot_write_regions(self) -> list[HotRegion]:
        return list(self._snapshot().hot_write_regions)

    async def get_store_metrics(self, store_id: int) -> StoreMetrics:
        found = self._snapshot().store_metrics.get(store_id)
        return found if found is not None else StoreMetrics(store_id, reachable=False)

    async def get_cluster_metrics(self) -> ClusterMetrics:
        return self._snapshot().cluster

    async def execute(self, action: str, args: dict[str, Any]) -> ActionResult:
        return ActionResult(action, dict(args), ok=False, refused=True, message=NOT_RUN)

    async def aclose(self) -> None:
        await self.inner.aclose()


STEP_FIELDS = ("tool", "input", "ok", "result_chars", "ms", "summary", "at")


class RecordedDiagnoser:
    """Hands back, ticket by ticket (by violation key, in order), the diagnoses the recording
    holds, their narrative streamed as it was; a recorded failure fails again."""

    model: str | None = None

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        keys: dict[int, str] = {}
        texts: dict[int, list[str]] = {}
        parts: dict[int, list[tuple[str, Any]]] = {}
        self._made: list[tuple[float, str, dict[str, Any]]] = []
        self.backend = "recorded"
        for ev in recording.events(kinds=("ticket.*", "diagnosis.*")):
            if ev.kind.startswith("ticket."):
                t = ev.data.get("ticket") or {}
                keys[int(t.get("id", -1))] = f"{t.get('invariant')}:{t.get('target')}"
            elif ev.kind == "diagnosis.started" and self.backend == "recorded":
                self.backend = str(ev.data.get("backend") or "recorded")
                self.model = ev.data.get("model")
            elif ev.kind == "diagnosis.chunk":
                texts.setdefault(int(ev.data.get("diagnosis_id", -1)), []).append(
                    str(ev.data.get("text", ""))
                )
                parts.setdefault(int(ev.data.get("diagnosis_id", -1)), []).append(
                    ("chunk", str(ev.data.get("text", "")))
                )
            elif ev.kind == "diagnosis.step" and isinstance(ev.data.get("step"), dict):
                parts.setdefault(int(ev.data.get("diagnosis_id", -1)), []).append(
                    ("step", ev.data["step"])
                )
            elif ev.kind in ("diagnosis.finished", "diagnosis.failed"):
                key = keys.get(int(ev.data.get("ticket_id", -1)))
                if key is None:
                    continue
                diag_id = int(ev.data.get("diagnosis_id", -1))
                made = {
                    **ev.data,
                    "kind": ev.kind,
                    "chunks": texts.get(diag_id, []),
                    "parts": parts.get(diag_id, []),
                }
                self._made.append((ev.t, key, made))
        self._queues: dict[str, list[dict[str, Any]]] = {}
        self.rewind()

    def rewind(self, consumed: dict[str, int] | None = None) -> None:
        """Back to the start, or to where ``consumed`` (key -> diagnoses handed out) says."""
        self._queues = {}
        for _t, key, made in self._made:
            self._queues.setdefault(key, []).append(made)
        for key, count in (consumed or {}).items():
            del self._queues.get(key, [])[:count]

    def consumed(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for _t, key, _made in self._made:
            total[key] = total.get(key, 0) + 1
        return {k: n - len(self._queues.get(k, ())) for k, n in total.items()}

    def due(self, since: float, until: float) -> list[str]:
        """The violation keys of the diagnoses recorded in ``[since, until)``."""
        return [key for t, key, _made in self._made if since <= t < until]

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        queue = self._queues.get(context.ticket.violation_key)
        if not queue:
            raise DiagnosisError("replay: the recording holds no diagnosis for this ticket")
        made = queue.pop(0)
        box = context.tools
        for kind, part in made["parts"] or [("chunk", c) for c in made["chunks"]]:
            if kind == "chunk":
                await on_text(part)
            elif box is not None:
                # The recorded tool calls, told again in their place between the text, so a
                # replay shows and stores the investigation as it was (no tool runs).
                step = ToolStep(**{f: part.get(f) for f in STEP_FIELDS})
                box.steps.append(step)
                if box.on_step is not None:
                    await box.on_step(step)
        if made["kind"] == "diagnosis.failed":
            raise DiagnosisError(str(made.get("error") or "failed when recorded"))
        data = made.get("diagnosis") or {}
        known = {k: v for k, v in data.items() if k in Diagnosis.model_fields}
        return DiagnosisOutcome(
            Diagnosis.model_validate(known),
            "".join(made["chunks"]),
            input_tokens=made.get("input_tokens"),
            output_tokens=made.get("output_tokens"),
        )


class ReplayRuntime(OperatorRuntime):
    """An ``OperatorRuntime`` over a recording; ``run_monitor`` plays it.

    ``make_subject`` builds today's subject (its declarations; its invariants under
    ``rediagnose``), again for each start-over. ``until_end``: ``run_monitor`` returns
    after the last tick (headless) instead of waiting there (the app).
    """

    def __init__(
        self,
        recording: Recording,
        make_subject: Callable[[], Subject],
        workdir: Path,
        tickets: TicketStore,
        *,
        diagnoser: Diagnoser | None = None,
        rediagnose: bool = False,
        speed: float = 1.0,
        until_end: bool = False,
        bus: EventBus | None = None,
        options: RuntimeOptions | None = None,
        checkpoints: CheckpointFile | None = None,
    ) -> None:
        self.recording = recording
        self.checkpoints = None if rediagnose else checkpoints
        self._builder: asyncio.Task[None] | None = None
        self.restored = 0
        """How many seeks started from a checkpoint."""
        self.make_subject = make_subject
        self.workdir = Path(workdir)
        self.rediagnose = rediagnose
        self.speed = clamp_speed(speed)
        self.until_end = until_end
        self.position = 0
        """The index of the next tick to play."""
        self.current: RecordedTick | None = None
        self._restarts = 0
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._step = False
        recorded = diagnoser if rediagnose else RecordedDiagnoser(recording)
        if recorded is None:
            raise ValueError("rediagnose needs today's diagnoser")
        options = options or RuntimeOptions()
        super().__init__(
            replace(options, interval_s=recording.interval_s, actions_mode="observe"),
            ReplaySubject(make_subject(), rediagnose=rediagnose),
            tickets,
            recorded,
            bus=bus,
            clock=self.recorded_now,
        )

    @classmethod
    async def open(
        cls,
        recording: Recording,
        make_subject: Callable[[], Subject],
        workdir: Path,
        *,
        checkpoints: bool = False,
        checkpoint_every_s: float = EVERY_S,
        **kw: Any,
    ) -> ReplayRuntime:
        """``checkpoints``: seek through checkpoints, kept beside a long recording (else in
        ``workdir``) and built while the player waits (``build_checkpoints``)."""
        tickets = await TicketStore.open(
            Path(workdir) / "replay-0.db", subject=recording.subject, scratch=True
        )
        found = None
        # A player that runs to the end and stops builds none; it uses a file already there.
        built = not kw.get("until_end") or beside(recording.path).exists()
        if checkpoints and built and not kw.get("rediagnose"):
            found = await asyncio.to_thread(
                open_checkpoints,
                recording,
                [Path(workdir) / "replay.checkpoints"],
                checkpoint_every_s,
            )
        return cls(recording, make_subject, workdir, tickets, checkpoints=found, **kw)

    async def aclose(self) -> None:
        if self._builder is not None:
            self._builder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._builder
        await self.tickets.aclose()
        await self.subject.aclose()
        if self.checkpoints is not None:
            self.checkpoints.close()

    # --- where the replay is ----------------------------------------------------------

    def recorded_now(self) -> datetime:
        if self.current is not None:
            return self.current.now
        if len(self.recording):
            return at(self.recording.start)
        return datetime.now(UTC)

    @property
    def at_end(self) -> bool:
        return self.position >= len(self.recording)

    def describe_position(self) -> str:
        """``REPLAY <recorded time> x<speed>`` for a header."""
        moment = self.recorded_now().strftime("%Y-%m-%d %H:%M:%S")
        end = " end" if self.at_end else ""
        return f"REPLAY {moment} x{self.speed:g}{end}"

    # --- playing ----------------------------------------------------------------------

    async def _play(self, index: int) -> None:
        """Play tick ``index``: the monitor's tick over its recorded snapshot, then the
        diagnoses due by the next one."""
        tick = self.recording.tick(index)
        self.current = tick
        assert isinstance(self.subject, ReplaySubject)
        self.subject.tick = tick
        await self.monitor.tick_once()
        self.position = index + 1
        if self.rediagnose:
            for ticket in await self.tickets.tickets_needing_diagnosis(limit=50):
                await self.agent.diagnose_ticket(ticket.id)
            return
        assert isinstance(self.diagnoser, RecordedDiagnoser)
        since = self.recording.times[index]
        until = self.recording.times[index + 1] if index + 1 < len(self.recording) else 1e18
        for key in self.diagnoser.due(since, until):
            ticket = next(
                (
                    t
                    for t in await self.tickets.list_tickets(include_resolved=True, limit=500)
                    if t.violation_key == key
                ),
                None,
            )
            if ticket is not None:
                await self.agent.diagnose_ticket(ticket.id)

    async def step(self) -> bool:
        """One tick forward; False at the end."""
        async with self._lock:
            if self.at_end:
                return False
            await self._play(self.position)
            return True

    async def _restart(self, checkpoint: Checkpoint | None = None) -> None:
        """Start over: with an empty ticket store, or with ``checkpoint``'s whole state."""
        old = self.tickets
        self._restarts += 1
        path = self.workdir / f"replay-{self._restarts}.db"
        if checkpoint is not None:
            await asyncio.to_thread(path.write_bytes, checkpoint.image)
        tickets = await TicketStore.open(path, subject=self.recording.subject, scratch=True)
        await old.aclose()
        stale = self.workdir / f"replay-{self._restarts - 1}.db"
        with contextlib.suppress(OSError):
            await asyncio.to_thread(stale.unlink)
        old_subject = self.subject
        paused = self.monitor.paused
        self.restart(tickets, ReplaySubject(self.make_subject(), rediagnose=self.rediagnose))
        self.monitor.paused = paused
        await old_subject.aclose()
        if isinstance(self.diagnoser, RecordedDiagnoser):
            self.diagnoser.rewind(None if checkpoint is None else checkpoint.consumed)
        self.position = 0
        self.current = None
        if checkpoint is None:
            return
        tick = self.recording.tick(checkpoint.index)
        assert isinstance(self.subject, ReplaySubject)
        self.subject.tick = self.current = tick
        self.monitor.latest = tick.snapshot
        self.monitor.ticks = checkpoint.ticks
        self.monitor._episodes = dict(checkpoint.episodes)
        self.monitor.history = self.agent.history = checkpoint.history
        self.position = checkpoint.index + 1

    async def capture(self) -> Checkpoint:
        """The player's state now (after tick ``position - 1``)."""
        consumed = (
            self.diagnoser.consumed() if isinstance(self.diagnoser, RecordedDiagnoser) else {}
        )
        return Checkpoint(
            index=self.position - 1,
            ticks=self.monitor.ticks,
            episodes=dict(self.monitor._episodes),
            consumed=consumed,
            history=self.monitor.history,
            image=await self.tickets.image(),
        )

    async def seek_index(self, index: int) -> None:
        """Make tick ``index`` the last one played (-1: none yet)."""
        index = max(-1, min(index, len(self.recording) - 1))
        async with self._lock:
            mark = self.checkpoints.before(index) if self.checkpoints is not None else None
            checkpoint = None
            if mark is not None and (index < self.position - 1 or mark > self.position - 1):
                checkpoint = await self._load_checkpoint(mark)
            if checkpoint is not None:
                await self._restart(checkpoint)
                self.restored += 1
            elif index < self.position - 1:
                await self._restart()
            while self.position <= index:
                await self._play(self.position)
        self._wake.set()

    # --- checkpoints --------------------------------------------------------------------

    async def _load_checkpoint(self, index: int) -> Checkpoint | None:
        """Checkpoint ``index``, or None when its file cannot give it back (damaged or
        changed under us): the replay then seeks without checkpoints, only slower."""
        file = self.checkpoints
        assert file is not None
        try:
            return await asyncio.to_thread(file.load, index)
        except Exception as exc:
            log.warning("replay checkpoints: %s unusable, seeking without them: %s", file.path, exc)
            if self._builder is not None:
                self._builder.cancel()
            self.checkpoints = None
            file.close()
            return None

    def build_checkpoints(self) -> asyncio.Task[None] | None:
        """Start (once) the background build of the checkpoints this file still lacks."""
        if self.checkpoints is None or self._builder is not None:
            return self._builder
        self._builder = asyncio.create_task(self._build(), name="replay-checkpoints")
        return self._builder

    async def _build(self) -> None:
        file = self.checkpoints
        assert file is not None
        marks = [i for i in boundaries(self.recording.times, file.every_s) if i > (file.last or -1)]
        if not marks:
            await asyncio.to_thread(file.warm)
            return
        workdir = self.workdir / "checkpoints"
        builder = await ReplayRuntime.open(
            self.recording, self.make_subject, workdir, bus=EventBus(), options=self.options
        )
        try:
            if file.last is not None:
                await builder._restart(await asyncio.to_thread(file.load, file.last))
            for mark in marks:
                while builder.position <= mark:
                    await builder._play(builder.position)
                await asyncio.to_thread(file.add, await builder.capture())
        except Exception as exc:
            log.warning("replay checkpoints: the build stopped: %s", exc)
            return
        finally:
            await builder.aclose()
        await asyncio.to_thread(file.warm)

    async def seek(self, moment: datetime | float) -> None:
        """Play up to the last tick at or before ``moment`` (recorded time)."""
        t = moment.timestamp() if isinstance(moment, datetime) else float(moment)
        index = self.recording.index_at(t)
        if index < len(self.recording) and self.recording.times[index] == t:
            index += 1
        await self.seek_index(index - 1)

    async def step_back(self) -> None:
        await self.seek_index(self.position - 2)

    async def seek_next_incident(self) -> bool:
        """Play up to the tick that opened the next recorded incident (rediagnose: today's)."""
        after = self.recording.times[self.position - 1] if self.position else -1e18
        if not self.rediagnose:
            upcoming = [t for t in self.recording.incident_times() if t > after]
            if not upcoming:
                return False
            await self.seek(upcoming[0])
            return True
        count = len(await self.incidents.list_incidents(include_resolved=True))
        while await self.step():
            if len(await self.incidents.list_incidents(include_resolved=True)) > count:
                return True
        return False

    def set_speed(self, speed: float) -> float:
        self.speed = clamp_speed(speed)
        self._wake.set()
        return self.speed

    # --- the runtime's loops and commands ----------------------------------------------

    async def run_monitor(self) -> None:
        """Play at ``speed`` until the end (then return, or wait there); honours pause and step.
        A player that waits at the end (the app) builds its checkpoints meanwhile."""
        if not self.until_end:
            self.build_checkpoints()
        while True:
            self._wake.clear()
            if self._step:
                self._step = False
                await self.step()
                continue
            if self.at_end and self.until_end:
                return
            if self.paused or self.at_end:
                await self._wake.wait()
                continue
            await self.step()
            if self.at_end:
                continue
            gap = self.recording.times[self.position] - self.recording.times[self.position - 1]
            wait = min(LONGEST_WAIT_S, max(0.0, gap) / self.speed)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def run_agent(self) -> None:
        """Diagnoses come in step with the ticks (``_play``), never on their own."""
        await asyncio.Event().wait()

    def pause(self) -> None:
        super().pause()
        self._wake.set()

    def resume(self) -> None:
        super().resume()
        self._wake.set()

    def tick_now(self) -> None:
        self._step = True
        self._wake.set()

    def set_interval(self, seconds: float) -> float:
        """The interval keys change the speed: a recorded interval played in ``seconds``."""
        self.set_speed(self.recording.interval_s / max(seconds, 1e-3))
        return self.interval_s

    @property
    def interval_s(self) -> float:
        return self.recording.interval_s / self.speed


def clamp_speed(speed: float) -> float:
    return min(MAX_SPEED, max(MIN_SPEED, float(speed)))
