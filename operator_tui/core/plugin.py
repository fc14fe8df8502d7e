"""What a subject package registers under the ``operator_tui.subjects`` entry-point group.

Kept apart from ``subject`` (the protocol a running subject implements) because a plugin
also hands out the pieces built on top of that protocol: its offline diagnoser, its lab
and its simulated cluster.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, runtime_checkable

from operator_tui.core.deploy import Deployment, DeploymentOptions
from operator_tui.core.diagnosis.base import Diagnoser
from operator_tui.core.harness import HarnessOptions, SimHarness
from operator_tui.core.subject import DemoCluster, DemoOptions, Subject, SubjectContext


@runtime_checkable
class SubjectPlugin(Protocol):
    """What a subject package registers under the ``operator_tui.subjects`` entry-point group.

    ``settings_model`` is a pydantic ``BaseModel`` subclass: the app nests it under
    ``name`` in its settings (environment ``OPERATOR_<NAME>__<FIELD>``, TOML ``[<name>]``).
    Field names it lists in a ``flat_aliases`` class attribute are also read under their
    bare name (``OPERATOR_<FIELD>``), for settings that predate sections.

    Optional: ``scenarios() -> Path | None``, the folder of evaluation scenarios the package
    ships (``operator-tui eval`` runs them when given no ``--scenarios``).
    """

    name: str
    settings_model: type[Any]

    def create(self, ctx: SubjectContext) -> Subject: ...

    def demo(self, options: DemoOptions) -> AbstractAsyncContextManager[DemoCluster]:
        """Start the subject's simulated cluster in this process, on loopback ports."""
        ...

    def sim_main(self, argv: list[str]) -> int:
        """Run the simulated cluster standalone (``operator-tui sim``); returns an exit code."""
        ...

    def deployment(self, options: DeploymentOptions) -> Deployment | None:
        """The subject's lab (``deploy``, ``chaos``), or None when it has none.

        Raises ``DeployError`` when the lab is there but cannot be read.
        """
        ...

    def harness(self, options: HarnessOptions) -> SimHarness | None:
        """A simulated cluster for scripted runs (the evaluation), or None when it has none."""
        ...

    def one_pass_settings(self, section: Any, rate_gap_s: float) -> Any:
        """The section ``check`` observes with: findings as they hold now (no grace period),
        rates from two reads ``rate_gap_s`` apart."""
        ...

    def offline_diagnoser(self) -> Diagnoser:
        """The subject's deterministic diagnoser (no network): its own rules over core's context."""
        ...
