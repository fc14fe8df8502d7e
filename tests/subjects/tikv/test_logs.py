"""parse_line against real TiKV lines, the format's quoting rules, and fuzzed input."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from operator_tikv import logs
from operator_tikv.logs import parse_line


def sample_lines(tk):
    text = tk.shared("tikv/log_samples.txt").read_text()
    return [ln for ln in text.splitlines() if ln.startswith("[")]


def test_every_sample_line_parses(tk):
    lines = sample_lines(tk)
    assert len(lines) >= 40
    for line in lines:
        event = parse_line(line)
        assert event is not None, line
        assert event.time.tzinfo is not None
        assert event.raw == line


def test_election_line_fields():
    event = parse_line(
        "[2024/07/24 09:59:48.778 +00:00] [INFO] [raft.rs:1550] "
        '["starting a new election"] [term=5] [raft_id=79] [region_id=78]'
    )
    assert event.time == datetime(2024, 7, 24, 9, 59, 48, 778000, tzinfo=UTC)
    assert (event.level, event.source, event.message) == (
        "INFO",
        "raft.rs:1550",
        "starting a new election",
    )
    assert event.fields == {"term": "5", "raft_id": "79", "region_id": "78"}
    assert (event.region_id, event.term, event.kind) == (78, 5, "election_started")
    assert event.takes_ms is None


def test_quoted_keys_and_values_with_brackets_and_equals():
    event = parse_line(
        "[2022/03/01 19:09:54.620 +08:00] [INFO] [raft.rs:1267] "
        '["broadcasting vote request"] [to="[32833, 32834]"] ["msg type"=MsgHeartbeat] '
        '[sql="SELECT * FROM T WHERE ID=\\"abc\\" AND x=[1]"] [term=8] [region_id=32832]'
    )
    assert event.fields["to"] == "[32833, 32834]"
    assert event.fields["msg type"] == "MsgHeartbeat"
    assert event.fields["sql"] == 'SELECT * FROM T WHERE ID="abc" AND x=[1]'
    assert event.time.utcoffset() == timedelta(hours=8)
    assert event.term == 8 and event.region_id == 32832


@pytest.mark.parametrize(
    ("message", "level", "extra", "kind"),
    [
        ("became leader at term 6", "INFO", "[term=6]", "became_leader"),
        ("became follower at term 8", "INFO", "[term=8]", "became_follower"),
        ("became pre-candidate at term 5", "INFO", "", "election_campaign"),
        (
            "[term 7] received MsgTimeoutNow from 3 and starts an election to get leadership.",
            "INFO",
            "",
            "leader_transfer",
        ),
        ("sent snapshot", "INFO", "[duration=137.3ms]", "snapshot_sent"),
        ("saving all snapshot files", "INFO", "[takes=134.6ms]", "snapshot_received"),
        ("begin to apply snapshot", "INFO", "", "snapshot_applied"),
        ("apply new data", "INFO", "[time_takes=12ms]", "snapshot_applied"),
        ("split region", "INFO", "", "region_split"),
        ("on split", "INFO", "", "region_split"),
        (
            "[store 1] handle 1 pending peers include 1 ready",
            "WARN",
            "[takes=7669]",
            "slow_operation",
        ),
        ("slow-query", "INFO", "[wait_time=2ms]", "slow_operation"),
        ("PD failed to respond", "INFO", '[err="Grpc(...)"]', "pd_connection_lost"),
        ("TSO stream is closed, reconnect to PD", "WARN", "", "pd_connection_lost"),
        ("reported disk usage changes None -> AlmostFull", "INFO", "", "disk_space"),
        ("require updating max ts", "INFO", "", "other"),
        ("scan snapshot", "INFO", "[takes=987.08ms]", "snapshot_generated"),
    ],
)
def test_kinds(message, level, extra, kind):
    line = (
        f'[2024/07/09 16:25:24.239 +08:00] [{level}] [x.rs:1] ["{message}"] {extra} [region_id=5]'
    )
    event = parse_line(line)
    assert event is not None
    assert event.kind == kind


@pytest.mark.parametrize(
    ("takes", "ms"),
    [
        ("7669", 7669.0),
        ("987.083966ms", 987.083966),
        ("1.41s", 1410.0),
        ("123ns", 0.000123),
        ("12µs", 0.012),
    ],
)
def test_takes_ms(takes, ms):
    event = parse_line(f"[2024/07/09 16:25:24.239 +08:00] [WARN] [x.rs:1] [slow] [takes={takes}]")
    assert event.takes_ms == pytest.approx(ms)


def test_term_from_message_when_no_field():
    event = parse_line(
        '[2024/07/09 16:25:24.239 +00:00] [INFO] [raft.rs:1] ["became leader at term 12"]'
    )
    assert event.term == 12 and event.region_id is None and event.fields == {}


def test_raw_message_and_unknown_source():
    event = parse_line(
        "[2019/09/18 10:04:37.339 +08:00] [INFO] [<unknown>] [Welcome] [thread_id=0x4]"
    )
    assert (event.source, event.message, event.fields) == (
        "<unknown>",
        "Welcome",
        {"thread_id": "0x4"},
    )


def test_json_format_line():
    event = parse_line(
        '{"time":"2020/05/16 15:49:52.450 +08:00","level":"INFO","caller":"raft.rs:1",'
        '"message":"became leader at term 3","term":3,"region_id":7}'
    )
    assert event.kind == "became_leader" and event.term == 3 and event.region_id == 7
    assert event.time.tzinfo == timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    "line",
    [
        "",
        "hello world",
        "[2024/07/09 16:25:24.239 +08:00] [INFO]",
        "[2024/07/09 16:25:24.239 +08:00] [NOTICE] [x.rs:1] [msg]",
        "[yesterday] [INFO] [x.rs:1] [msg]",
        '[2024/07/09 16:25:24.239 +08:00] [INFO] [x.rs:1] ["unterminated]',
        "[2024/07/09 16:25:24.239 +08:00] [INFO] [x.rs:1] [msg] [a=1] trailing",
        "[2024/07/09 16:25:24.239 +08:00] [INFO] [x.rs:1] [msg] [a=1] [dangling]",
        "[2024/07/09 16:25:24.239] [INFO] [x.rs:1] [msg]",
        '{"time": 5}',
        "{not json",
    ],
)
def test_unparseable_lines_are_none_and_counted(line):
    before = logs.stats.unparsed
    assert parse_line(line) is None
    assert logs.stats.unparsed == before + 1


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(text):
    result = parse_line(text)
    assert result is None or result.raw


_token = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_token, _token), max_size=6), _token)
def test_round_trip_of_quoted_fields(pairs, message):
    """Lines written with TiKV's quoting rule come back with the same message and fields."""
    import json

    def q(text):
        needs = any(ord(c) <= 0x20 or c in '"=[]' for c in text)
        return json.dumps(text, ensure_ascii=False) if needs or text == "" else text

    keys = {}
    for key, value in pairs:
        if key:
            keys[key] = value
    parts = ["[2024/07/09 16:25:24.239 +08:00]", "[INFO]", "[x.rs:1]", f"[{q(message)}]"]
    parts += [f"[{q(k)}={q(v)}]" for k, v in keys.items()]
    event = parse_line(" ".join(parts))
    assert event is not None
    assert event.message == message
    assert event.fields == keys


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_never_raises_on_bytes_decoded_loosely(data):
    parse_line(data.decode("utf-8", errors="replace"))
    parse_line("[2024/07/09 16:25:24.239 +08:00] [INFO] [x.rs:1] " + data.decode("latin-1"))


def test_one_election_is_one_election_started(tk):
    kinds = [parse_line(ln).kind for ln in sample_lines(tk)]
    assert kinds.count("election_started") == 3


# What each real line in ../shared/fixtures/tikv/log_samples.txt is, by its message.
SAMPLE_KINDS = {
    "starting a new election": "election_started",
    "became pre-candidate at term 5": "election_campaign",
    "became pre-candidate at term 121": "election_campaign",
    "became leader at term 6": "became_leader",
    "require updating max ts": "other",
    "[term 7] received MsgTimeoutNow from 32833 and starts an election to get leadership.": (
        "leader_transfer"
    ),
    "broadcasting vote request": "vote",
    "received votes response": "vote",
    "received a message with higher term from 11632": "higher_term",
    "received a message with higher term from 142728": "higher_term",
    "became follower at term 8": "became_follower",
    "became follower at term 0": "became_follower",
    "try to change peer": "conf_change",
    "propose conf change peer": "conf_change",
    "requesting snapshot": "snapshot_generated",
    "scan snapshot": "snapshot_generated",
    "sent snapshot": "snapshot_sent",
    "report snapshot status": "snapshot_sent",
    "saving snapshot file": "snapshot_received",
    "saving all snapshot files": "snapshot_received",
    "begin to apply snapshot": "snapshot_applied",
    "begin apply snap data": "snapshot_applied",
    "epoch changed, retry later": "other",
    "try to batch split region": "region_split",
    "split region": "region_split",
    "notify pd with split": "region_split",
    "create peer": "other",
    "[store 21694] handle 1 pending peers include 1 ready, 1 entries, 1 messages and 0 snapshots": (
        "slow_operation"
    ),
    "slow-query": "slow_operation",
    "PD failed to respond": "pd_connection_lost",
    "connecting to PD endpoint": "pd_reconnect",
    "reported disk usage changes None -> AlmostFull": "disk_space",
    "failed to remove space holder on starting: No such file or directory (os error 2)": (
        "disk_space"
    ),
    "failed to fetch URL": "other",
    "Slow query": "slow_operation",
}


def test_every_real_sample_gets_its_kind(tk):
    lines = sample_lines(tk)
    wrong = []
    for ln in lines:
        event = parse_line(ln)
        expected = SAMPLE_KINDS.get(event.message, "(missing from SAMPLE_KINDS)")
        if event.kind != expected:
            wrong.append((event.message, event.kind, expected))
    assert wrong == []
