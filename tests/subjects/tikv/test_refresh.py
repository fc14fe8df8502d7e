"""``Refresh``: when a slow PD group is read again, and what it keeps in between."""

from operator_tikv.refresh import Refresh


def group(every_s: float = 10.0, phase: float = 0.0) -> Refresh:
    return Refresh("g", ("a", "b"), lambda: {}, every_s, phase=phase)


def test_due_until_a_complete_answer_then_after_its_period():
    g = group()
    assert g.due(0.0)
    assert not g.keep({"a": 1}, 0.0)  # "b" missing: nothing kept, read again
    assert g.due(2.0) and g.answer == {}
    assert g.keep({"a": 1, "b": 2, "other": 3}, 2.0)
    assert g.answer == {"a": 1, "b": 2}
    assert not g.due(11.0)
    assert g.due(12.0)
    assert g.due(11.5, tolerance_s=0.5)  # tick jitter: 9.999 s after is as good as 10
    assert g.age_s(7.0) == 5.0


def test_phase_brings_only_the_second_read_forward():
    g = group(phase=0.5)
    g.keep({"a": 1, "b": 2}, 0.0)
    assert not g.due(4.9) and g.due(5.0)
    g.keep({"a": 1, "b": 2}, 5.0)
    assert not g.due(14.9) and g.due(15.0)


def test_clock_going_back_and_forget_read_again():
    g = group()
    g.keep({"a": 1, "b": 2}, 100.0)
    assert g.due(50.0)
    g.keep({"a": 1, "b": 2}, 100.0)
    g.forget()
    assert g.due(100.0) and g.answer == {} and g.age_s(100.0) is None


def test_period_zero_is_every_tick():
    g = group(every_s=0.0)
    g.keep({"a": 1, "b": 2}, 0.0)
    assert g.due(0.0)
