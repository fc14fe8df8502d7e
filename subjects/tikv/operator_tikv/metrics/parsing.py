"""Metrics pages parsed off the event loop, each within a size and a time cap.

A store's page is parsed in pure Python: a real one (692 KB, 9,356 lines) costs about 1 ms,
but a page with a million series in a family the operator reads costs 15 s, and on the
loop that stops every tick, every key press and SIGTERM for as long. Here pages go to one
worker thread, in turn. A page longer than ``max_chars`` is skipped unread (the fetcher
holds the same cap, so such a page is dropped from its Content-Length); a page not parsed
within ``max_seconds`` of the start of its read (receiving, the parses queued before it and
its own) stops at its next check and is skipped for that tick; either way the reason is
counted in ``skipped``. A parse whose caller is cancelled (the
tick's budget ran out, the operator is stopping) stops at its next check too, so shutting
down never waits on a parse.

A page up to ``inline_chars`` (2M characters, three times a real page: a few ms at most)
is parsed on the loop, under the same time cap, so a real page costs no hand-over to the
thread and back. ``benchmarks/tick_cost.py`` on the shared, loaded machine, direct mode,
CPU per tick at 3 / 100 stores: main 22.1 / 86.0 ms, this 23.7 / 91.9 ms, every page on
the thread 15.7 / 71.7 ms: within the noise of that machine, not settled.

One thread, not a process: the reader's cache of series (what makes repeated pages cheap)
lives with it, and a parsed page needs no copying back. The thread shares the interpreter
lock with the loop, which then gets it back at least every switch interval (5 ms).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from operator_tikv.metrics.exposition import ExpositionReader, ParseStopped, Scrape

TOO_LARGE = "too_large"
TOO_SLOW = "too_slow"


class PageSkipped(Exception):
    """The page was not parsed this tick; ``reason`` is ``too_large`` or ``too_slow``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class PageParser:
    """``ExpositionReader.parse`` on a worker thread, capped in size and time per page."""

    def __init__(
        self,
        reader: ExpositionReader,
        *,
        max_chars: int = 16 << 20,
        max_seconds: float = 0.5,
        inline_chars: int = 2 << 20,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if max_chars < 1 or max_seconds <= 0:
            raise ValueError("the page caps must be positive")
        self.reader = reader
        self.max_chars = max_chars
        self.max_seconds = max_seconds
        self.inline_chars = inline_chars
        self.skipped: Counter[str] = Counter()
        self._clock = clock
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="metrics-parse")
        self._closed = threading.Event()

    def now(self) -> float:
        """The parser's clock: what ``parse``'s ``started`` is read on."""
        return self._clock()

    async def parse(self, text: str, at: float, started: float | None = None) -> Scrape:
        """The page's wanted samples; ``PageSkipped`` past a cap, ``ValueError`` on bad text.

        ``started`` (on ``now()``'s clock) is when the page's read began: the time cap then
        counts from it, so receiving and decoding a big page spend the same budget as parsing
        it, and a page costs its tick at most ``max_seconds`` in all. Its parse still gets a
        tenth of the cap (a hundred times a real page's) however slowly it arrived.
        """
        if len(text) > self.max_chars:
            self.skipped[TOO_LARGE] += 1
            raise PageSkipped(
                TOO_LARGE,
                f"page of {len(text)} characters skipped (cap {self.max_chars})",
            )
        cancelled = threading.Event()
        # From the hand-over, not from the start on the thread: pages queued behind a slow
        # one share its wait instead of each adding their own cap to the tick.
        now = self._clock()
        deadline = now + self.max_seconds
        if started is not None:
            deadline = max(started + self.max_seconds, now + self.max_seconds / 10)
        try:
            if len(text) <= self.inline_chars:
                return self._run(text, at, cancelled, deadline)
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, self._run, text, at, cancelled, deadline
            )
        except asyncio.CancelledError:
            cancelled.set()
            raise
        except ParseStopped:
            self.skipped[TOO_SLOW] += 1
            raise PageSkipped(
                TOO_SLOW, f"page skipped: reading and parsing it took over {self.max_seconds:g} s"
            ) from None

    def _run(self, text: str, at: float, cancelled: threading.Event, deadline: float) -> Scrape:
        clock, closed = self._clock, self._closed
        if cancelled.is_set() or closed.is_set() or clock() > deadline:
            raise ParseStopped("cancelled or out of time before it started")

        def stop() -> bool:
            return cancelled.is_set() or closed.is_set() or clock() > deadline

        return self.reader.parse(text, at, stop)

    def close(self) -> None:
        """Stop the parse under way at its next check and drop the queued ones."""
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
