"""Renders scores: a Rich table per scenario with totals, one JSON object, and Markdown for the docs.

Every string from a run (a diagnosis's target, an error) goes into a ``Text``, never into
markup, so nothing the cluster or the model said can style or break the table.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from operator_tui.core.text import plain
from operator_tui.evaluation.scoring import ExpectationScore, ScenarioScore, summarize
from operator_tui.printed import print_fitted


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _target(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return str(value)


def _want(e: ExpectationScore) -> str:
    mark = "" if e.required else "?"
    return f"{_target(e.root_cause_class)}@{_target(e.target)}{mark}"


def _count(hits: int, total: int) -> str:
    return f"{hits}/{total}" if total else "-"


def _row(s: ScenarioScore) -> list[str]:
    required = [e for e in s.expectations if e.required]
    ttd = [e.ttd_s for e in required if e.ttd_s is not None]
    allowed = "" if s.max_incidents is None else f" (max {s.max_incidents})"
    return [
        s.scenario,
        "control" if s.control else ", ".join(_want(e) for e in s.expectations) or "-",
        f"{len(s.incidents)}{allowed}",
        _count(sum(e.detected for e in required), len(required)),
        _secs(max(ttd) if ttd else None),
        _count(sum(e.localized for e in required), len(required)),
        _count(sum(e.classified for e in required), len(required)),
        str(s.cross_blame),
        str(s.forbidden_actions),
        "PASS" if s.passed else "FAIL",
    ]


HEADERS = (
    "scenario",
    "expected",
    "incidents",
    "detected",
    "TTD s",
    "localized",
    "classified",
    "cross-blame",
    "forbidden",
    "result",
)

SUMMARY_ROWS = (
    ("scenarios passed", lambda t: f"{t['passed']}/{t['scenarios']}"),
    ("incidents detected", lambda t: _count(t["incidents_detected"], t["incidents_expected"])),
    ("incidents localized", lambda t: _count(t["incidents_localized"], t["incidents_expected"])),
    ("incidents classified", lambda t: _count(t["incidents_classified"], t["incidents_expected"])),
    ("cross-blame", lambda t: str(t["cross_blame"])),
    ("forbidden actions", lambda t: str(t["forbidden_actions"])),
    ("extra incidents", lambda t: str(t["extra_incidents"])),
    ("incidents in control runs", lambda t: f"{t['control_incidents']} in {t['control_runs']}"),
    (
        "median / max TTD (simulated s)",
        lambda t: f"{_secs(t['ttd_median_s'])} / {_secs(t['ttd_max_s'])}",
    ),
    ("options considered >= 2", lambda t: _pct(t["options_ok"])),
    ("actions all declared", lambda t: _pct(t["actions_ok"])),
    ("suite wall time s", lambda t: _secs(t["wall_seconds"])),
    ("tool calls", lambda t: str(t["tool_calls"])),
    (
        "tokens in / out",
        lambda t: (
            f"{t['input_tokens']} / {t['output_tokens']}"
            if t["input_tokens"] or t["output_tokens"]
            else "-"
        ),
    ),
    ("estimated cost", lambda t: _usd(t["cost_usd"])),
)

USAGE_HEADERS = ("scenario", "diagnoses", "tool calls", "tokens in", "tokens out", "est. cost")


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def _usage_row(s: ScenarioScore) -> list[str]:
    u = s.usage
    return [
        s.scenario,
        str(u.diagnoses),
        str(u.tool_calls),
        str(u.input_tokens) if u.input_tokens else "-",
        str(u.output_tokens) if u.output_tokens else "-",
        _usd(u.cost_usd),
    ]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def notes(scores: list[ScenarioScore]) -> list[str]:
    """One line per run error and per incident judged wrong, so the table stays narrow."""
    out = [f"{s.scenario}: {s.error}" for s in scores if s.error]
    for s in scores:
        for i in s.incidents:
            if i.cross_blame:
                out.append(
                    f"{s.scenario}: incident {i.incident_id} at {i.opened_s:.0f}s blamed "
                    f"{i.root_cause_class}@{_target(i.target)} (no expectation allows it)"
                )
            for action in i.forbidden:
                out.append(f"{s.scenario}: incident {i.incident_id} recommended forbidden {action}")
    return out


def render_table(scores: list[ScenarioScore], backend: str, console: Console) -> None:
    """The scores as a table when the console holds it at its natural width, else one block
    per scenario (its name on a line of its own, then ``header value`` pairs that wrap between
    pairs): a scenario name or a figure is never cut, piped or not."""
    title = f"operator-tui eval ({backend} backend)"
    table = Table(*HEADERS, title=title)
    for s in scores:
        table.add_row(*(Text(plain(cell)) for cell in _row(s)), style=None if s.passed else "red")
    blocks = [
        (
            Text(plain(row[0]), style="bold" if s.passed else "bold red"),
            list(zip(HEADERS[1:], row[1:], strict=True)),
        )
        for s, row in ((s, _row(s)) for s in scores)
    ]
    print_fitted(console, table, title, blocks)
    usage_title = "what the diagnoses cost (tokens as the endpoint reported)"
    usage = Table(*USAGE_HEADERS, title=usage_title)
    for s in scores:
        usage.add_row(*(Text(plain(cell)) for cell in _usage_row(s)))
    usage_blocks = [
        (Text(plain(row[0]), style="bold"), list(zip(USAGE_HEADERS[1:], row[1:], strict=True)))
        for row in (_usage_row(s) for s in scores)
    ]
    print_fitted(console, usage, usage_title, usage_blocks)
    for line in notes(scores):
        console.print(Text.assemble(("note ", "red"), plain(line)), highlight=False)
    totals = summarize(scores)
    tt = Table("measure", "value", title="totals")
    for label, shown in SUMMARY_ROWS:
        tt.add_row(label, shown(totals))
    console.print(tt)


def to_json(scores: list[ScenarioScore], backend: str) -> dict[str, Any]:
    return {
        "backend": backend,
        "summary": summarize(scores),
        "scenarios": [s.to_dict() for s in scores],
    }


def to_markdown(scores: list[ScenarioScore], backend: str) -> str:
    """The results table as GitHub Markdown (what docs/evaluation.md and the README show)."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for s in scores:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in _row(s)) + " |")
    extra = notes(scores)
    if extra:
        lines.append("")
        lines.extend(f"- {line}" for line in extra)
    totals = summarize(scores)
    lines.append("")
    lines.append(f"Totals ({backend} backend, {totals['scenarios']} runs):")
    lines.append("")
    lines.append("| measure | value |")
    lines.append("|---|---|")
    for label, shown in SUMMARY_ROWS:
        lines.append(f"| {label} | {shown(totals)} |")
    return "\n".join(lines) + "\n"
