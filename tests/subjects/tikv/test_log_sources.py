"""Log sources: an HTTP route (MockTransport), docker (python-on-whales, through a stand-in
``docker`` on PATH) and files; plus the alert coverage document staying complete."""

import json
import os
import sys

import httpx
import pytest
import yaml
from operator_tikv.logsources import DockerLogSource, FileLogSource, HttpLogSource
from operator_tikv.records import TikvStore
from operator_tikv.states import StoreState

STANDIN = """#!{python}
import json, os, sys
with open(os.environ["ARGV_LOG"], "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
if os.environ.get("STANDIN_FAIL"):
    sys.stderr.write("Error response from daemon: No such container\\n")
    sys.exit(1)
if sys.argv[1:3] == ["container", "inspect"]:
    sys.stdout.write(json.dumps([{{"Id": "0123456789ab", "Name": "/" + sys.argv[-1]}}]))
if "logs" in sys.argv:
    sys.stdout.write(open(os.environ["STANDIN_LINES"]).read())
"""


@pytest.fixture
def docker_standin(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "docker"
    script.write_text(STANDIN.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("ARGV_LOG", str(tmp_path / "argv.jsonl"))
    lines = tmp_path / "lines.txt"
    lines.write_text("")
    monkeypatch.setenv("STANDIN_LINES", str(lines))
    return tmp_path


def calls(tmp_path):
    path = tmp_path / "argv.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def samples(tk):
    text = tk.shared("tikv/log_samples.txt").read_text()
    return [ln for ln in text.splitlines() if ln.startswith("[")]


STORES = [
    TikvStore(1, "tikv1:20160", StoreState.UP),
    TikvStore(2, "tikv2:20160", StoreState.TOMBSTONE),
]


async def test_docker_container_logs(docker_standin, tk):
    lines = samples(tk)
    (docker_standin / "lines.txt").write_text("\n".join(lines[:3]) + "\n")
    source = DockerLogSource()
    events, errors = await source.fetch(STORES)
    assert errors == []
    assert [e.raw for e in events] == lines[:3] and {e.store_id for e in events} == {1}
    first = [c for c in calls(docker_standin) if "logs" in c]
    assert len(first) == 1 and first[0][:2] == ["container", "logs"]
    (docker_standin / "lines.txt").write_text("\n".join(lines[:4]) + "\n")
    events, errors = await source.fetch(STORES)
    assert [e.raw for e in events] == [lines[3]]
    assert "--since" in calls(docker_standin)[-1]


async def test_docker_compose_logs_by_service(docker_standin, tk):
    (docker_standin / "lines.txt").write_text(samples(tk)[0] + "\n")
    source = DockerLogSource(compose_file="compose/tikv/docker-compose.yml", compose_project="lab")
    events, errors = await source.fetch(STORES)
    assert errors == [] and len(events) == 1
    argv = calls(docker_standin)[0]
    assert argv[0] == "compose" and "logs" in argv and argv[-1] == "tikv1"
    assert "--no-log-prefix" in argv and "lab" in argv


async def test_docker_failure_is_an_error_line_not_an_exception(docker_standin, monkeypatch):
    monkeypatch.setenv("STANDIN_FAIL", "1")
    events, errors = await DockerLogSource().fetch(STORES)
    assert events == []
    assert errors == ["docker logs of store 1 (tikv1): exit 1"]


async def test_docker_missing_binary(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    events, errors = await DockerLogSource().fetch(STORES)
    assert events == [] and len(errors) == 1 and errors[0].startswith("docker logs of store 1")


async def test_file_source_rotation_and_naming(tmp_path, tk):
    lines = samples(tk)
    log = tmp_path / "tikv-1.log"
    log.write_text("\n".join(lines[:2]) + "\n")
    source = FileLogSource(tmp_path)
    events, _ = await source.fetch(STORES)
    assert len(events) == 2
    log.write_text(lines[5] + "\n")
    events, _ = await source.fetch(STORES)
    assert [e.raw for e in events] == [lines[5]]
    (tmp_path / "tikv-1.log").unlink()
    events, errors = await source.fetch(STORES)
    assert events == [] and [e.split(":")[0] for e in errors] == ["log file of store 1"]
    events, errors = await source.fetch(STORES)
    assert events == [] and errors == []


def test_alert_coverage_lists_every_official_rule(tk):
    doc = (tk.FIXTURES.parents[1] / "docs" / "alert-coverage.md").read_text()
    names = []
    for name in ("tikv.rules.v8.5.7.yml", "pd.rules.v8.5.7.yml"):
        rules = yaml.safe_load(tk.shared(f"tikv/{name}").read_text())
        names += [r["alert"] for g in rules["groups"] for r in g["rules"]]
    assert len(names) == 47
    missing = [n for n in names if f"`{n}`" not in doc]
    assert missing == []


LEADER = '[2026/01/01 00:00:01.000 +00:00] [INFO] [raft.rs:1] ["became leader at term 2"] [term=2] [region_id=9]'


async def test_http_source_fills_the_template_and_fails_over_to_the_next_url():
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.host == "down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, text=LEADER + "\n")

    store = TikvStore(7, "tikv-7.lab:20160", StoreState.UP)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        source = HttpLogSource(
            http, "http://down/{host}/{store_id}/logs, http://up/{host}/{store_id}/logs"
        )
        events, errors = await source.fetch([store])
        assert errors == [] and [(e.kind, e.store_id) for e in events] == [("became_leader", 7)]
        # The URL that answered is asked first next time; the last line's time is the cursor,
        # and the line of that millisecond is not returned twice.
        events, errors = await source.fetch([store])
    assert events == [] and errors == []
    assert asked == [
        "http://down/tikv-7.lab/7/logs",
        "http://up/tikv-7.lab/7/logs",
        "http://up/tikv-7.lab/7/logs?since=2026-01-01T00%3A00%3A01.000000Z",
    ]


async def test_http_source_reports_every_url_down_as_one_line():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        source = HttpLogSource(http, ["http://a/{store_id}", "http://b/{store_id}"])
        events, errors = await source.fetch([TikvStore(1, "s1:20160", StoreState.UP)])
    assert events == [] and errors == ["logs of store 1: ConnectTimeout"]


# Hostile store addresses (finding 5): names from PD are read only inside log_dir.


def _hostile_store(store_id: int, address: str):
    from operator_tui.core.types import Store

    return Store(id=store_id, address=address, state="Up")


async def test_file_source_reads_only_inside_log_dir(tmp_path):
    from operator_tikv.logsources import FileLogSource

    outside = tmp_path / "outside"
    (outside / "abs").mkdir(parents=True)
    secret = "[2024/12/25 08:20:32.382 +00:00] [WARN] [x.rs:1] [secret-line]\n"
    (outside / "abs" / "tikv.log").write_text(secret)
    (outside / "x.log").write_text(secret)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "linked.log").symlink_to(outside / "x.log")
    source = FileLogSource(logs)
    stores = [
        _hostile_store(1, f"{outside / 'abs'}:20160"),
        _hostile_store(2, "../outside/x:20160"),
        _hostile_store(3, "linked:20160"),
        _hostile_store(4, "..:20160"),
    ]
    for store in stores:
        assert source.path_for(store) is None
    events, errors = await source.fetch(stores)
    assert events == []
    assert sorted(e.split(":")[0] for e in errors) == [
        f"log file of store {i}" for i in (1, 2, 3, 4)
    ]
    assert all("\n" not in e for e in errors)
    again_events, again_errors = await source.fetch(stores)
    assert again_events == [] and again_errors == []


async def test_file_source_clips_a_huge_line(tmp_path):
    from operator_tikv.logsources import MAX_LINE_CHARS, FileLogSource

    line = "[2024/12/25 08:20:32.382 +00:00] [WARN] [x.rs:1] [" + "m" * 500_000 + "]\n"
    (tmp_path / "tikv-1.log").write_text(line)
    events, _ = await FileLogSource(tmp_path).fetch([_hostile_store(1, "h:1")])
    assert all(len(e.raw) <= MAX_LINE_CHARS + 30 for e in events)
