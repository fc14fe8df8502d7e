"""Rich and Markdown renderings of tickets, diagnoses, metric histories and log events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from operator_tui.core.subject import Measure, StoreFigure
from operator_tui.core.text import plain
from operator_tui.core.ticket import Ticket
from operator_tui.core.types import LogEvent, Snapshot, StoreMetrics
from operator_tui.tui.format import (
    age,
    clock_time,
    health_text,
    in_words,
    ms,
    num,
    pct,
    severity_text,
    shown,
    sparkline,
)

History = Sequence[tuple[datetime, StoreMetrics]]


def seen(when: datetime, now: datetime) -> str:
    """``03:05:13 (12s ago)``, with the date in front when it is not today's."""
    stamp = f"{when:%H:%M:%S}" if when.date() == now.date() else f"{when:%Y-%m-%d %H:%M:%S}"
    return f"{stamp} ({age(now, when)} ago)"


def ticket_facts(ticket: Ticket, now: datetime) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_row("invariant", shown(ticket.invariant, "bold"))
    table.add_row("target", shown(ticket.target))
    table.add_row("severity", severity_text(ticket.severity))
    table.add_row(
        "status",
        ticket.status.value + (" (last diagnosis failed)" if ticket.diagnosis_failed else ""),
    )
    table.add_row("message", Text(plain(ticket.message), overflow="fold"))
    table.add_row("first seen", seen(ticket.first_seen, now))
    table.add_row("last seen", seen(ticket.last_seen, now))
    table.add_row("occurrences", str(ticket.occurrences))
    if ticket.resolved_at is not None:
        table.add_row("resolved", seen(ticket.resolved_at, now))
    if ticket.previous_ticket_id is not None:
        table.add_row("follows", f"#{ticket.previous_ticket_id}")
    return table


METRIC_LINE_FIXED = 28
"""Characters of a ``metric_lines`` figure line that are not its two sparklines."""


def metric_lines(
    snapshot: Snapshot | None, histories: dict[int, History], focus: int | None, width: int = 8
) -> Text:
    """QPS and p99 sparklines per store, two lines each, the ticket's store first.

    ``width``: room for each sparkline; it never outgrows the longest history, so the extra
    width of a large terminal is not spent on blank sparkline cells. The figures are
    right-aligned in 6 characters, the most ``count`` and ``ms`` write.
    """
    text = Text(no_wrap=True, overflow="ellipsis")
    stores = {s.id: s for s in snapshot.stores} if snapshot else {}
    width = max(1, min(width, max((len(p) for p in histories.values()), default=1)))
    for i, store_id in enumerate(sorted(histories, key=lambda sid: (sid != focus, sid))):
        points = histories[store_id]
        last = points[-1][1] if points else None
        if i:
            text.append("\n")
        text.append("▶ " if store_id == focus else "  ", style="bold yellow")
        text.append(f"store {store_id} ", style="bold")
        text.append_text(health_text(stores[store_id]) if store_id in stores else Text("-"))
        text.append("\n    qps ", style="dim")
        text.append(f"{sparkline((m.qps for _, m in points), width):<{width}}", style="cyan")
        text.append(f" {num(last.qps if last else None):>6}")
        text.append("  p99 ", style="dim")
        text.append(
            f"{sparkline((m.p99_latency_ms for _, m in points), width):<{width}}", style="magenta"
        )
        text.append(f" {ms(last.p99_latency_ms if last else None):>6}")
    if not histories:
        text.append("no metric history yet", style="dim")
    return text


HISTORY_WIDTH = 30
"""Points the store screen's sparklines show (all it needs to read of the history)."""


def store_history(
    points: History, width: int = HISTORY_WIDTH, extra: Sequence[StoreFigure] = ()
) -> Table:
    """Core's figures, then the subject's ``extra`` ones (its ``metric_figures``)."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(style="cyan", no_wrap=True)
    table.add_column(no_wrap=True)
    last = points[-1][1] if points else None
    for label, attr, fmt in (
        ("QPS", "qps", num),
        ("p99", "p99_latency_ms", ms),
        ("p99 write", "p99_write_latency_ms", ms),
        ("CPU", "cpu_ratio", pct),
        *((f.label, f.name, num) for f in extra),
    ):
        values = [getattr(m, attr, None) for _, m in points]
        table.add_row(
            label,
            sparkline(values, width) or "-",
            fmt(getattr(last, attr, None) if last else None),
        )
    return table


def log_lines(events: Iterable[LogEvent], limit: int = 14) -> Text:
    """The last ``limit`` events, categorised ones (elections, snapshots, slow ops) preferred."""
    every = sorted(events, key=lambda e: e.time)
    notable = [e for e in every if e.kind != "other"]
    chosen = (notable if len(notable) >= min(limit, len(every)) // 2 and notable else every)[
        -limit:
    ]
    text = Text(no_wrap=True, overflow="ellipsis")
    if not chosen:
        text.append("no log events", style="dim")
        return text
    for i, ev in enumerate(chosen):
        if i:
            text.append("\n")
        text.append(clock_time(ev.time) + " ", style="dim")
        level_style = {"ERROR": "red", "WARN": "yellow", "WARNING": "yellow"}.get(
            ev.level.upper(), ""
        )
        text.append(f"{plain(ev.level[:4]):<4} ", style=level_style)
        if ev.store_id is not None:
            text.append(f"s{ev.store_id} ", style="bold")
        text.append(f"{plain(ev.kind, limit=40)} ", style="cyan")
        if ev.about:
            text.append(f"{plain(ev.about)} ")
        text.append(plain(ev.message))
    return text


def safe_markdown(text: str) -> str:
    """A model's Markdown with no control or escape sequence; it is shown by a ``Markdown``
    widget that opens no link."""
    return plain(text, multiline=True, limit=None)


def diagnosis_markdown(
    result: dict[str, Any], measures: Sequence[Measure] = (), *, summarised: bool = False
) -> str:
    """The structured diagnosis as Markdown sections (sanitised: the values come from a model);
    correlated metrics in the words and units the subject declares (``measures``).

    ``summarised``: the root cause and the recommended actions are shown above it
    (``diagnosis_summary``), so they are left out here rather than shown twice.
    """
    return safe_markdown(_diagnosis_markdown(result, measures, summarised))


def _target_label(target: Any) -> str:
    return f"store {target}" if isinstance(target, int) else str(target)


def diagnosis_summary(result: Mapping[str, Any]) -> Group:
    """What a reader needs first: the root cause on its target, then each recommended action
    with its change (current -> proposed) and risk, its reason indented under it. Plain text
    throughout (the values come from a model)."""
    head = Text()
    head.append("Root cause ", style="bold underline")
    head.append(plain(result.get("root_cause_class", "unknown")), style="bold yellow")
    head.append(plain(f" on {_target_label(result.get('target', 'cluster'))}"), style="bold")
    if result.get("severity"):
        head.append(" · ")
        head.append_text(severity_text(plain(result["severity"])))
    confidence = result.get("confidence")
    if isinstance(confidence, int | float):
        head.append(f" · confidence {float(confidence) * 100:.0f}%", style="dim")
    root_cause = plain(str(result.get("root_cause", "")).strip())
    if root_cause:
        head.append("\n" + root_cause)
    parts: list[Any] = [head, Text(""), Text("Recommended action", style="bold underline")]
    actions = [a for a in result.get("recommended_actions") or [] if isinstance(a, Mapping)]
    if not actions:
        parts.append(Text("None: watch and wait."))
    for i, a in enumerate(actions, 1):
        args = ", ".join(f"{k}={v}" for k, v in (a.get("args") or {}).items())
        line = Text(f"{i}. ")
        line.append(plain(f"{a.get('action', '')}({args})"), style="bold cyan")
        risk = plain(a.get("risk", "low"))
        line.append(f" · risk {risk}", style="bold red" if risk == "high" else "")
        change = action_change(a)
        if change:
            line.append(plain(f" · {change}"), style="bold")
        parts.append(line)
        rationale = plain(str(a.get("rationale", "")).strip())
        if rationale:
            parts.append(Padding(Text(rationale, style="dim"), (0, 0, 0, 3)))
    return Group(*parts)


def _diagnosis_markdown(
    result: dict[str, Any], measures: Sequence[Measure] = (), summarised: bool = False
) -> str:
    out: list[str] = []
    out.append("## Observation\n\n" + str(result.get("observation", "")).strip())
    cause_class = result.get("root_cause_class", "unknown")
    target_label = _target_label(result.get("target", "cluster"))
    if not summarised:
        out.append(
            f"## Root cause · `{cause_class}` · {target_label}\n\n"
            + str(result.get("root_cause", "")).strip()
        )
    metrics = result.get("correlated_metrics") or []
    if metrics:
        rows = []
        for m in metrics:
            store = "the cluster" if m.get("store_id") is None else f"store {m.get('store_id')}"
            value, baseline = m.get("value"), m.get("baseline")
            if isinstance(value, int | float) and (
                baseline is None or isinstance(baseline, int | float)
            ):
                rows.append(
                    f"- {store}: {in_words(str(m.get('metric', '')), value, baseline, measures)}"
                )
            else:
                rows.append(
                    f"- {store}: {m.get('metric', '')} {_fig(value)} (baseline {_fig(baseline)})"
                )
        out.append("## Correlated metrics\n\n" + "\n".join(rows))
    weighed = result.get("causes_considered") or []
    if weighed:
        out.append("## Causes weighed\n\n" + "\n".join(_weighed(c) for c in weighed))
    options = result.get("options_considered") or []
    if options:
        out.append(
            "## Options considered\n\n"
            + "\n".join(
                f"- **{o.get('option', '')}**: not chosen because {o.get('rejected_because', '')}"
                for o in options
            )
        )
    if summarised:
        return "\n\n".join(out) + "\n"
    actions = result.get("recommended_actions") or []
    lines = []
    for i, a in enumerate(actions, 1):
        args = ", ".join(f"{k}={v}" for k, v in (a.get("args") or {}).items())
        change = action_change(a)
        lines.append(
            f"{i}. `{a.get('action', '')}({args})` · risk **{a.get('risk', 'low')}**"
            + (f" · {change}" if change else "")
            + f": {a.get('rationale', '')}"
        )
    out.append(
        "## Recommended actions\n\n" + ("\n".join(lines) if lines else "None: watch and wait.")
    )
    confidence = result.get("confidence")
    conf = f"{float(confidence) * 100:.0f}%" if isinstance(confidence, int | float) else "-"
    out.append(f"## Confidence\n\n{conf} · severity **{result.get('severity', '-')}**")
    return "\n\n".join(out) + "\n"


def action_change(action: Mapping[str, Any]) -> str:
    """``n: 64 -> 128`` for each argument whose current value is known; the other current
    values as ``now: key=value``; "" when the diagnosis gave none."""
    args = action.get("args") or {}
    current = action.get("current") or {}
    if not isinstance(args, Mapping) or not isinstance(current, Mapping):
        return ""
    moves = [f"{k}: {current[k]} -> {v}" for k, v in args.items() if k in current]
    rest = [f"{k}={v}" for k, v in current.items() if k not in args]
    return ", ".join(moves + ([f"now: {', '.join(rest)}"] if rest else []))


def _weighed(c: dict[str, Any]) -> str:
    target = "cluster" if c.get("target") == "cluster" else f"store {c.get('target')}"
    head = (
        f"- **{c.get('cause', '')}** on {target}: {'chosen' if c.get('chosen') else 'not chosen'}"
    )
    lines = [f"  - for: {e}" for e in c.get("evidence_for") or []]
    lines += [f"  - against: {e}" for e in c.get("evidence_against") or []]
    return "\n".join([head, *lines])


def _fig(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
