"""Watching PD's leader between ticks: ``GET /pd/api/v1/leader`` every ``poll_s``.

PD's HTTP API has no watch (``server/api/router.go`` registers ``/leader`` as a plain GET
answering the current leader member; the election itself is an etcd lease PD keeps over
gRPC), so the cheapest way to see the leader move is that small GET: one short JSON
object, about a millisecond of CPU, two a second at the default. A different name, or no
leader answering where one did, wakes the monitor; the probe reads ``/leader`` once more
and confirms only if the change holds.
"""

from __future__ import annotations

import asyncio
import logging

from operator_tikv.pd.client import PDClient
from operator_tikv.pd.models import Member
from operator_tui.core.subject import SubjectError
from operator_tui.core.wakeup import Wake, WakeFn

log = logging.getLogger(__name__)

KEY = "pd leader"
NONE = ""
"""The leader's name when no member answers with one."""


class LeaderWatch:
    def __init__(self, pd: PDClient, *, poll_s: float = 0.5, timeout_s: float = 1.0) -> None:
        self.pd = pd
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.polls = 0
        self.wakes = 0
        self.leader: str | None = None
        """The name last read (``NONE``: no leader answered); None before the first read."""

    async def read(self) -> str:
        try:
            async with asyncio.timeout(self.timeout_s):
                member = await self.pd.get("/leader", Member)
        except (SubjectError, TimeoutError):
            return NONE
        return member.name

    async def watch(self, wake: WakeFn) -> None:
        while True:
            self.polls += 1
            name = await self.read()
            if self.leader is not None and name != self.leader:
                self.wakes += 1
                wake(Wake(KEY, _moved(self.leader, name), self._holds(name)))
            self.leader = name
            await asyncio.sleep(self.poll_s)

    def _holds(self, name: str):
        async def confirm() -> bool:
            return await self.read() == name

        return confirm


def _moved(before: str, after: str) -> str:
    if not after:
        return f"no PD member answers /leader (was {before})"
    if not before:
        return f"PD elected {after}"
    return f"PD leader moved from {before} to {after}"
