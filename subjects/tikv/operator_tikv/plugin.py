"""The ``tikv`` entry point of ``operator_tui.subjects``; nothing is created at import."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from operator_tikv.settings import TikvSettings
from operator_tikv.subject import TikvSubject
from operator_tui.core.subject import DemoCluster, DemoOptions, SubjectContext


class TikvPlugin:
    """Builds ``TikvSubject``s and starts the simulated cluster (``operator_tikv.sim``)."""

    name = "tikv"
    settings_model = TikvSettings

    def create(self, ctx: SubjectContext) -> TikvSubject:
        return TikvSubject(ctx)

    def demo(self, options: DemoOptions) -> AbstractAsyncContextManager[DemoCluster]:
        from operator_tikv.sim.demo import run_demo

        return run_demo(options)

    def sim_main(self, argv: list[str]) -> int:
        from operator_tikv.sim.cli import main

        return int(main(argv))


plugin = TikvPlugin()
