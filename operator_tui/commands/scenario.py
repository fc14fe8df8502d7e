"""``operator-tui scenario from-recording FILE --out X.toml``: a recording made a scenario.

The scenario names the recording (``recording = "..."``, relative to the scenario file)
and lists each recorded incident as a draft expectation: its target, the root-cause class
of its last recorded diagnosis, and a window around when it opened. A person confirms or
corrects them before the scenario joins a suite.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from operator_tui.config import Settings
from operator_tui.core.recording import Recording, RecordingError
from operator_tui.core.text import plain

SLACK_S = 10.0
WINDOW_S = 30.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenario", help="make evaluation scenarios (from-recording)")
    verbs = p.add_subparsers(dest="scenario_command", metavar="VERB", required=True)
    f = verbs.add_parser(
        "from-recording", help="a scenario whose draft expectations are a recording's incidents"
    )
    f.add_argument("file", type=Path, metavar="FILE")
    f.add_argument("--out", type=Path, required=True, metavar="X.toml")
    f.add_argument("--name", help="scenario name (default: the recording's file name)")


def _toml(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def draft(recording: Recording, relpath: str, name: str) -> str:
    start = recording.start
    incidents: dict[int, dict[str, object]] = {}
    for ev in recording.events(kinds=("incident.opened", "diagnosis.finished")):
        if ev.kind == "incident.opened":
            data = ev.data.get("incident") or {}
            incidents[int(data.get("id", -1))] = {
                "opened_s": ev.t - start,
                "target": "cluster" if data.get("store_id") is None else int(data["store_id"]),
                "class": "unknown",
            }
        else:
            held = incidents.get(int(ev.data.get("incident_id", -1)))
            cause = (ev.data.get("diagnosis") or {}).get("root_cause_class")
            if held is not None and cause:
                held["class"] = str(cause)
    duration = max(recording.end - start, 1.0)
    lines = [
        "# Drafted by `operator-tui scenario from-recording`: each incident the recording holds",
        "# is an expectation. Confirm or correct each one before adding this to a suite.",
        f"name = {_toml(name)}",
        f"description = {_toml('replayed from ' + relpath)}",
        f"recording = {_toml(relpath)}",
        f"duration = {duration:.1f}",
        "warmup = 0.0",
        "",
        "[expect]",
        f"max_incidents = {len(incidents)}",
    ]
    for held in incidents.values():
        opened = float(held["opened_s"])  # type: ignore[arg-type]
        after = min(max(0.0, opened - SLACK_S), duration - 1.0)
        lines += [
            "",
            "[[expect.incidents]]",
            f"target = {_toml(held['target'])}",
            f"root_cause_class = {_toml(held['class'])}",
            f"after = {after:.1f}",
            f"within_s = {WINDOW_S:.1f}",
        ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        recording = Recording(args.file)
    except RecordingError as exc:
        print(f"operator-tui: error: {plain(exc)}", file=sys.stderr)
        return 2
    try:
        out: Path = args.out
        rel = os.path.relpath(args.file.resolve(), out.resolve().parent)
        text = draft(recording, Path(rel).as_posix(), args.name or args.file.stem)
    finally:
        recording.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {plain(str(out))}")
    return 0
