"""The rule narrative writes a moved figure in the subject's words and unit, not as a float."""

from __future__ import annotations

from datetime import UTC, datetime

from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.findings import Finding
from operator_tui.core.diagnosis.narrative import render_markdown
from operator_tui.core.diagnosis.schema import CorrelatedMetric, Diagnosis
from operator_tui.core.subject import Measure
from operator_tui.core.types import Severity, Violation
from operator_tui.testing.samples import diagnosis_input
from operator_tui.testing.tickets import ticket_for

WAIT = Measure("queue_wait", "queue wait p99", "us", critical=0.0)


def _evidence(measures: tuple[Measure, ...], *metrics: CorrelatedMetric) -> str:
    now = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    ticket = ticket_for(Violation("slow", Severity.WARNING, "slow", 3), now)
    ctx = DiagnosisContext(ticket=ticket, subject="fake", measures=measures)
    diagnosis = Diagnosis.model_validate(
        diagnosis_input(correlated_metrics=[m.model_dump() for m in metrics])
    )
    finding = Finding(cause="unknown", target=3, root_cause="slow")
    [evidence] = [c for c in render_markdown(ctx, finding, diagnosis) if "## Evidence" in c]
    return evidence


def test_a_declared_figure_is_written_in_its_words_and_unit() -> None:
    text = _evidence(
        (WAIT,), CorrelatedMetric(metric="queue_wait", store_id=3, value=1.8e6, baseline=0.0)
    )
    assert "- store 3: queue wait p99: 1.80s, usually 0" in text
    assert "e+06" not in text and "queue_wait" not in text


def test_an_undeclared_figure_keeps_its_name_with_a_short_count() -> None:
    text = _evidence(
        (), CorrelatedMetric(metric="odd_figure", store_id=None, value=7981.4, baseline=12.0)
    )
    assert "- the cluster: odd_figure: 7981, usually 12.00" in text
    assert "e+03" not in text


def test_cores_own_figures_have_words_when_the_subject_declares_none() -> None:
    text = _evidence(
        (),
        CorrelatedMetric(metric="reachable", store_id=2, value=0.0, baseline=1.0),
        CorrelatedMetric(metric="p99_latency_ms", store_id=1, value=5743.0, baseline=3.1),
    )
    assert "- store 2: reachable (its figures could be read): 0%, usually 100%" in text
    assert "- store 1: p99 latency: 5.74s, usually 3.10ms" in text
