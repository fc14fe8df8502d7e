"""The ``tikv`` entry point of ``operator_tui.subjects``; nothing is created at import."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx

from operator_tikv.settings import TikvSettings
from operator_tikv.subject import TikvSubject
from operator_tui.core.deploy import Deployment, DeploymentOptions
from operator_tui.core.diagnosis.base import Diagnoser
from operator_tui.core.harness import HarnessOptions, SimHarness
from operator_tui.core.subject import DemoCluster, DemoOptions, SubjectContext


class TikvPlugin:
    """Builds ``TikvSubject``s; starts the simulated cluster (``operator_tikv.sim``) for the demo
    and the evaluation's harness; offers the compose lab (``operator_tikv.lab``)."""

    name = "tikv"
    settings_model = TikvSettings

    def create(self, ctx: SubjectContext) -> TikvSubject:
        return TikvSubject(ctx)

    def one_pass_settings(self, section: TikvSettings, rate_gap_s: float) -> TikvSettings:
        """Every invariant's grace scaled to 0; rates over half the gap between the two reads."""
        invariants = {**section.model_dump()["invariants"], "grace_scale": 0.0}
        return section.model_validate(
            {**section.model_dump(), "invariants": invariants, "min_rate_window_s": rate_gap_s / 2}
        )

    def demo(self, options: DemoOptions) -> AbstractAsyncContextManager[DemoCluster]:
        from operator_tikv.sim.demo import run_demo

        return run_demo(options)

    async def simulator(self, settings: TikvSettings, http: httpx.AsyncClient) -> Any | None:
        """The simulator's control routes when ``--pd`` points at a standalone simulator."""
        from operator_tikv.sim.demo import find_simulator

        return await find_simulator(list(settings.pd), http)

    def sim_main(self, argv: list[str]) -> int:
        from operator_tikv.sim.cli import main

        return int(main(argv))

    def deployment(self, options: DeploymentOptions) -> Deployment:
        from operator_tikv.lab.deployment import LocalDeployment

        return LocalDeployment.from_options(options)

    def harness(self, options: HarnessOptions) -> SimHarness:
        from operator_tikv.harness import TikvHarness

        return TikvHarness(options)

    def scenarios(self) -> Path | None:
        """The evaluation scenarios shipped with this package (``operator-tui eval``'s default)."""
        from operator_tikv.shipped import scenarios_dir

        return scenarios_dir()

    def offline_diagnoser(self) -> Diagnoser:
        from operator_tikv.diagnosis import offline_diagnoser

        return offline_diagnoser()


plugin = TikvPlugin()
