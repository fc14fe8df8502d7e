"""The ``tikv`` entry point of ``operator_tui.subjects``; nothing is created at import."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from operator_tikv.subject import TikvSubject
from operator_tui.core.diagnosis.base import Diagnoser
from operator_tui.core.subject import DemoCluster, DemoOptions, SubjectContext


class TikvPlugin:
    """Builds ``TikvSubject``s and starts the simulated cluster (``operator_tikv.sim``)."""

    name = "tikv"

    def create(self, ctx: SubjectContext) -> TikvSubject:
        return TikvSubject(ctx)

    def demo(self, options: DemoOptions) -> AbstractAsyncContextManager[DemoCluster]:
        from operator_tikv.sim.demo import run_demo

        return run_demo(options)

    def sim_main(self, argv: list[str]) -> int:
        from operator_tikv.sim.cli import main

        return int(main(argv))

    def offline_diagnoser(self) -> Diagnoser:
        from operator_tikv.diagnosis import offline_diagnoser

        return offline_diagnoser()


plugin = TikvPlugin()
