"""The Go/Rust encodings the simulator writes, checked against known outputs and as properties."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st
from operator_tikv.sim.encode import (
    bytes_size,
    compact,
    go_duration,
    go_float,
    go_json_value,
    go_time_string,
    indented,
    log_time,
    parse_go_duration,
    rfc3339,
    rust_float,
)
from operator_tikv.sim.keys import KEYSPACE, decode_hex, key_hex

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_indented_is_marshal_indent_with_go_floats(value: object) -> None:
    expected = json.dumps(go_json_value(value), indent=2, ensure_ascii=False) + "\n"
    assert indented(value).decode() == expected
    assert compact(value).decode() == json.dumps(
        go_json_value(value), separators=(",", ":"), ensure_ascii=False
    )


def test_known_go_values() -> None:
    assert go_duration(36 * 60 * 10**9 + 20_480_549_971) == "36m20.480549971s"
    assert go_duration(3600 * 10**9) == "1h0m0s"
    assert go_duration(10**7) == "10ms"
    assert go_duration(1500) == "1.5µs"
    assert go_duration(0) == "0s"
    assert bytes_size(311.7 * 2**30) == "311.7GiB"
    assert bytes_size(1.745 * 2**40) == "1.745TiB"
    assert bytes_size(512 * 2**20) == "512MiB"
    assert bytes_size(1) == "1B" and bytes_size(0) == "0B"
    assert rfc3339(1735098083480549971) == "2024-12-25T03:41:23.480549971Z"
    assert rfc3339(1735098000 * 10**9) == "2024-12-25T03:40:00Z"
    assert log_time(1735098083480549971) == "2024/12/25 03:41:23.480 +00:00"
    assert go_time_string(1735097490_123456789, 2187_000000001) == (
        "2024-12-25 03:31:30.123456789 +0000 UTC m=+2187.000000001"
    )
    assert go_time_string(0) == "0001-01-01 00:00:00 +0000 UTC"
    assert [go_float(v) for v in (1e6, 1234567.0, 123456.0, 0.5, 3.0, 1.5e7, 1e-5)] == [
        "1e+06", "1.234567e+06", "123456", "0.5", "3", "1.5e+07", "1e-05",
    ]  # fmt: skip
    assert [rust_float(v) for v in (1e-5, 0.004019679000000001, 3.0, 21474.83648)] == [
        "0.00001", "0.004019679000000001", "3", "21474.83648",
    ]  # fmt: skip


@given(st.integers(min_value=0, max_value=10**15))
def test_go_duration_round_trips(ns: int) -> None:
    assert parse_go_duration(go_duration(ns)) == ns


@given(st.floats(min_value=1e-300, max_value=1e300))
def test_rust_and_go_floats_read_back_exactly(value: float) -> None:
    assert float(rust_float(value)) == value
    assert float(go_float(value)) == value
    assert "e" not in rust_float(value)


@given(st.integers(min_value=1, max_value=KEYSPACE - 1))
def test_region_keys_are_memcomparable_hex_that_decode(pos: int) -> None:
    text = key_hex(pos)
    assert text == text.upper() and len(text) % 18 == 0
    assert decode_hex(text) == pos


@given(st.integers(min_value=1, max_value=KEYSPACE - 2))
def test_region_key_order_follows_positions(pos: int) -> None:
    assert key_hex(pos) < key_hex(pos + 1)


def test_edges() -> None:
    assert key_hex(0) == "" and key_hex(KEYSPACE) == ""
    assert math.isclose(parse_go_duration("1.5s"), 1.5e9)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_go_float_notation_switches_like_strconv(value: float) -> None:
    import re

    text = go_float(value)
    assert float(text) == value
    if value == 0 or 1e-4 <= abs(value) < 1e6:
        assert "e" not in text
    else:
        assert re.fullmatch(r"-?\d(\.\d*[1-9])?e[+-]\d{2,3}", text), text
