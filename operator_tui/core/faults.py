"""Faults a front end may inject, as the subject declares them, and where its cluster answers.

A simulated cluster (the demo, or a standalone simulator found at the configured endpoints)
breaks on request. Which faults it offers, with which parameters, is the subject's
declaration (``FaultControl.fault_kinds``); front ends render that declaration and send the
choice back through ``core.commands``, knowing nothing of the system behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from operator_tui.core.deploy import Endpoint

PARAM_TYPES = ("float", "int", "str")


@dataclass(frozen=True, slots=True)
class FaultParam:
    """One parameter of a fault. ``default`` None: the subject picks one when it is left out."""

    name: str
    type: str = "float"
    default: Any = None
    unit: str = ""
    description: str = ""
    choices: tuple[str, ...] = ()

    def parse(self, text: str) -> Any:
        """The typed value of what a person typed; ``None`` for an empty field (use the
        default). Raises ``ValueError`` with a line fit for the screen."""
        text = text.strip()
        if not text:
            return None
        if self.choices and text not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}")
        if self.type == "int":
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"{self.name} must be a whole number") from None
        if self.type == "float":
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"{self.name} must be a number") from None
        return text


@dataclass(frozen=True, slots=True)
class FaultKind:
    """A fault the subject can inject: on one store (``target`` "store") or on the cluster."""

    name: str
    label: str
    description: str = ""
    target: str = "store"
    params: tuple[FaultParam, ...] = ()

    @property
    def needs_store(self) -> bool:
        return self.target == "store"


@dataclass(frozen=True, slots=True)
class ActiveFault:
    id: str
    kind: str
    store_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        where = f" on store {self.store_id}" if self.store_id is not None else ""
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.id} {self.kind}{where}" + (f" ({args})" if args else "")


@runtime_checkable
class FaultControl(Protocol):
    """A cluster that breaks on request: the subject's simulator. Errors are ``SubjectError``."""

    def fault_kinds(self) -> tuple[FaultKind, ...]: ...

    async def inject_fault(
        self, kind: str, store_id: int | None, params: Mapping[str, Any]
    ) -> ActiveFault: ...

    async def active_faults(self) -> list[ActiveFault]: ...

    async def clear_fault(self, fault_id: str) -> ActiveFault: ...

    async def endpoints(self) -> list[Endpoint]:
        """Where the cluster answers (its API, its metrics, its control routes), to show people."""
        ...


@runtime_checkable
class FindsSimulator(Protocol):
    """A subject plugin that recognises its own simulator at the configured endpoints."""

    async def simulator(self, settings: Any, http: httpx.AsyncClient) -> Any | None:
        """The simulator's control (``Chaos`` and ``FaultControl``) when the subject's
        settings point at one, else None; never raises for a cluster that is not one."""
        ...


__all__ = [
    "PARAM_TYPES",
    "ActiveFault",
    "Endpoint",
    "FaultControl",
    "FaultKind",
    "FaultParam",
    "FindsSimulator",
]
