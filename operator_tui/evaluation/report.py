"""Renders scores: a Rich table per scenario with totals, one JSON object, and Markdown for the docs."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from operator_tui.core.text import plain
from operator_tui.evaluation.scoring import TARGETS, ScenarioScore, summarize


def _mark(ok: bool | None) -> str:
    if ok is None:
        return "-"
    return "yes" if ok else "NO"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _target_value(name: str, value: object) -> str:
    """A target's measured value as the tables show it: seconds, a count, or a share."""
    if name.endswith("_s"):
        return _secs(value)  # type: ignore[arg-type]
    if name == "false_alarms":
        return str(value)
    return _pct(value)  # type: ignore[arg-type]


def _target(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return str(value)


def _got(value: Any, ok: bool | None, expected: Any) -> str:
    if ok:
        return f"{_target(value)} ok"
    return f"{_target(value)} NO (want {_target(expected)})"


def _row(s: ScenarioScore) -> list[str]:
    if s.control:
        detected = "none, ok" if s.false_alarms == 0 else f"{s.false_alarms} FALSE ALARM"
    else:
        detected = _mark(s.detected)
        if s.false_alarms:
            detected += f" +{s.false_alarms} early"
    fault = not s.control
    return [
        s.scenario,
        f"{s.expected_class}@{_target(s.expected_target)}" if fault else "control",
        detected,
        _secs(s.ttd_sim_s),
        _secs(s.ttd_wall_s),
        _got(s.target, s.localized, s.expected_target) if fault else "-",
        _got(s.root_cause_class, s.root_cause_ok, s.expected_class) if fault else "-",
        f"{s.options} {_mark(s.options_ok)}" if fault else "-",
        f"{len(s.actions)} {_mark(s.actions_ok)}" if fault else "-",
        "PASS" if s.passed else "FAIL",
    ]


HEADERS = (
    "scenario",
    "expected",
    "detected",
    "TTD sim s",
    "TTD wall s",
    "target",
    "root cause",
    "options",
    "actions",
    "result",
)


def notes(scores: list[ScenarioScore]) -> list[str]:
    """One line per run error, so that the table itself stays narrow."""
    return [f"{s.scenario}: {s.error}" for s in scores if s.error]


def render_table(scores: list[ScenarioScore], backend: str, console: Console) -> None:
    table = Table(*HEADERS, title=f"operator-tui eval ({backend} backend)")
    for s in scores:
        style = None if s.passed else "red"
        table.add_row(*(Text(plain(cell)) for cell in _row(s)), style=style)
    console.print(table)
    for line in notes(scores):
        console.print(Text.assemble(("error", "red"), f" {plain(line)}"), highlight=False)
    totals = summarize(scores)
    tt = Table("measure", "value", "target", "met", title="totals")
    for t in TARGETS:
        entry = totals["targets"][t.name]
        shown = _target_value(t.name, entry["value"])
        tt.add_row(
            t.name, shown, t.goal, _mark(entry["met"]), style=None if entry["met"] else "red"
        )
    tt.add_row("options considered >= 2", _pct(totals["options_ok"]), "", "")
    tt.add_row("actions all declared", _pct(totals["actions_ok"]), "", "")
    tt.add_row("median TTD wall s", _secs(totals["median_ttd_wall_s"]), "", "")
    tt.add_row("scenarios passed", f"{totals['passed']}/{totals['scenarios']}", "", "")
    tt.add_row("suite wall time s", _secs(totals["wall_seconds"]), "", "")
    console.print(tt)


def to_json(scores: list[ScenarioScore], backend: str) -> dict[str, Any]:
    return {
        "backend": backend,
        "scenarios": [s.to_dict() for s in scores],
        "totals": summarize(scores),
    }


def to_markdown(scores: list[ScenarioScore], backend: str) -> str:
    """The results table as GitHub Markdown (what docs/evaluation.md and the README show)."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for s in scores:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in _row(s)) + " |")
    totals = summarize(scores)
    for line in notes(scores):
        lines.append("")
        lines.append(f"Error: {line}")
    lines.append("")
    lines.append(f"Totals ({backend} backend, {totals['scenarios']} scenarios):")
    lines.append("")
    lines.append("| measure | value | target | met |")
    lines.append("|---|---|---|---|")
    for t in TARGETS:
        entry = totals["targets"][t.name]
        shown = _target_value(t.name, entry["value"])
        lines.append(f"| {t.name} | {shown} | {t.goal} | {_mark(entry['met'])} |")
    lines.append(f"| options considered >= 2 | {_pct(totals['options_ok'])} | | |")
    lines.append(f"| actions all declared | {_pct(totals['actions_ok'])} | | |")
    lines.append(f"| median TTD wall s | {_secs(totals['median_ttd_wall_s'])} | | |")
    return "\n".join(lines) + "\n"
