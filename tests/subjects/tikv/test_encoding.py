import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from operator_tikv.encoding import format_bytes, parse_byte_size, parse_go_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0B", 0),
        ("1B", 1),
        ("512MiB", 512 * 2**20),
        ("290.7MiB", int(290.7 * 2**20)),
        ("311.7GiB", int(311.7 * 2**30)),
        ("1.745TiB", int(1.745 * 2**40)),
        ("937 GiB", 937 * 2**30),
        ("10k", 10 * 1024),
        (1234, 1234),
    ],
)
def test_byte_sizes_as_go_units_reads_them(text, expected):
    assert parse_byte_size(text) == expected


@pytest.mark.parametrize(
    "bad",
    ["", "GiB", "-1B", "1.2.3GiB", "12 XB", True, float("inf"), float("nan"), "9" * 400, None],
)
def test_bad_byte_sizes_raise_value_error(bad):
    with pytest.raises(ValueError):
        parse_byte_size(bad)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m0s", 1800.0),
        ("1h0m0s", 3600.0),
        ("10ms", 0.01),
        ("48h0m0s", 172800.0),
        ("36m20.480549971s", 2180.480549971),
        ("5h15m29.382630989s", 18929.382630989),
        ("1.5µs", 1.5e-6),
        ("0", 0.0),
        ("-2s", -2.0),
        ("30m", 1800.0),
    ],
)
def test_go_durations(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "5", "1d", "m", "3x", 10**400, None, [1]])
def test_bad_go_durations_raise(bad):
    with pytest.raises(ValueError):
        parse_go_duration(bad)


def test_format_bytes_round_trips_to_four_digits():
    assert format_bytes(0) == "0B"
    assert format_bytes(311.7 * 2**30) == "311.7GiB"
    assert parse_byte_size(format_bytes(123456789)) == pytest.approx(123456789, rel=1e-3)


def _go_duration_string(ns: int) -> str:
    """Go's ``time.Duration.String()`` for durations of a second or more."""
    seconds, frac = divmod(ns, 10**9)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs}.{frac:09d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text


@settings(max_examples=300)
@given(st.integers(min_value=10**9, max_value=10**9 * 3600 * 24 * 400))
def test_go_duration_strings_read_back_as_seconds(ns):
    assert parse_go_duration(_go_duration_string(ns)) == pytest.approx(ns / 1e9, rel=1e-12)
