"""``operator-tui eval``: run the fault scenarios against the simulator and score the diagnoses."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from operator_tui.config import Settings
from operator_tui.core.diagnosis import backends
from operator_tui.core.registry import load_plugin
from operator_tui.core.subject import SubjectError
from operator_tui.core.text import plain
from operator_tui.evaluation.report import render_table, to_json, to_markdown
from operator_tui.evaluation.runner import EvalError, RunOptions, run_suite
from operator_tui.evaluation.scenario import Scenario, ScenarioError, load_suite, with_seeds
from operator_tui.evaluation.scoring import ScenarioScore


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="score the diagnosis on fault scenarios run against the simulated cluster",
        description=(
            "Run each scenario (simulated cluster, monitor, diagnoser, injected faults) on "
            "simulated time and score detection, time to detect, localization, root cause, "
            "options considered and recommended actions. Exit 0 when every scenario passes, 1 otherwise."
        ),
    )
    p.add_argument(
        "--scenarios",
        type=Path,
        metavar="PATH",
        help="a scenario TOML file or a directory of them (default: the scenarios the subject "
        "plugin ships)",
    )
    p.add_argument(
        "--backend",
        dest="eval_backend",
        choices=backends.RUNNABLE,
        help="diagnosis backend (default: the global --backend if given, else offline)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument(
        "--markdown", type=Path, metavar="FILE", help="also write the results table as Markdown"
    )
    p.add_argument(
        "--only", action="append", metavar="NAME", help="run only this scenario (repeatable)"
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run each scenario N times with seeds seed, seed+1, ... (default 1)",
    )


def _backend(args: argparse.Namespace, settings: Settings) -> str:
    """``eval --backend``, else the configured backend unless it is ``auto``: offline then."""
    if args.eval_backend:
        return args.eval_backend
    configured = settings.diagnosis.backend
    return configured if configured in backends.RUNNABLE else backends.OFFLINE


def shipped_scenarios(settings: Settings) -> Path:
    """The subject plugin's own scenarios, found through its ``scenarios()``."""
    try:
        plugin = load_plugin(settings.subject)
    except SubjectError as exc:
        raise ScenarioError(str(exc)) from None
    found = getattr(plugin, "scenarios", lambda: None)()
    if found is None:
        raise ScenarioError(f"the {plugin.name} subject ships no scenarios: give --scenarios PATH")
    return Path(found)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        scenarios = load_suite(args.scenarios or shipped_scenarios(settings))
    except ScenarioError as exc:
        print(f"operator-tui: error: {exc}", file=sys.stderr)
        return 2
    if args.only:
        wanted = set(args.only)
        unknown = wanted - {s.name for s in scenarios}
        if unknown:
            print(
                f"operator-tui: error: no scenario named {', '.join(sorted(unknown))}",
                file=sys.stderr,
            )
            return 2
        scenarios = [s for s in scenarios if s.name in wanted]
    if not 1 <= args.repeat <= 100:
        print("operator-tui: error: --repeat must be between 1 and 100", file=sys.stderr)
        return 2
    scenarios = with_seeds(scenarios, args.repeat)
    backend = _backend(args, settings)
    err = Console(stderr=True)

    def progress(scenario: Scenario, score: ScenarioScore) -> None:
        if not args.json:
            verdict = "pass" if score.passed else "FAIL"
            line = f"  {plain(scenario.name)}: {verdict} ({score.wall_seconds:.1f} s)"
            err.print(Text(line), highlight=False)

    try:
        scores = asyncio.run(
            run_suite(
                scenarios,
                settings,
                RunOptions(
                    backend=backend,
                    scenario_wall_timeout_s=900.0 if backend == backends.CLAUDE else 240.0,
                ),
                progress,
            )
        )
    except (EvalError, SubjectError) as exc:
        print(f"operator-tui: error: {plain(exc)}", file=sys.stderr)
        return 2
    if args.markdown is not None:
        try:
            args.markdown.write_text(to_markdown(scores, backend), encoding="utf-8")
        except OSError as exc:
            print(
                f"operator-tui: error: cannot write {args.markdown}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 2
    if args.json:
        print(json.dumps(to_json(scores, backend), default=str))
    else:
        render_table(scores, backend, Console())
    return 0 if all(s.passed for s in scores) else 1
