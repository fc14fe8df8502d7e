"""Walk through the console as a user would, in a real terminal (tmux), and say what was seen.

Starts ``operator-tui --demo`` in a detached tmux pane (120x40 unless ``--size``), then, with
keys sent as a user types them: waits for the first tick; ``f`` on store 2, slow disk, enter,
enter; watches the main screen until the store's incident opens; opens the incident; ``l`` on
the store (its logs); ``m`` (the cluster's graphs); ``enter`` then ``m`` (that store's graphs);
``P`` twice (stores sorted by p99, then reversed); ``q``. Every screen is captured with
``tmux capture-pane -p`` twice, a few seconds apart, and checked:

* no number cut: no ``…`` right after a digit or a figure's unit (``5743.0…``, ``p99 1.2…``);
* live: the two captures of a screen differ (ages, ticks, new points, new lines);
* sorted: the stores' p99 column is in order after ``P``, in the other order after ``P`` again.

Prints one JSON line per check and a summary; exits 1 when a check failed. ``--keep DIR``
keeps every capture as text. Needs tmux (``scripts/setup-test-tools.sh`` installs it).

    uv run python scripts/walkthrough_tmux.py [--size 120x40] [--keep DIR] [--incident-wait 180]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
OPERATOR = os.environ.get("WALKTHROUGH_OPERATOR", str(BIN / "operator-tui"))
SLOW_STORE = 2
LIVE_GAP_S = 4.5
"""Between the two captures of a screen: more than two 2 s ticks."""

CUT_NUMBER = re.compile(
    r"\d[.,]\d*…|\d(?:[.,]\d+)?(?:µs|ms|s|m|h|k|M|G|T|B|KiB|MiB|GiB|%|/s|[a-zA-Zµ/])+…"
    r"|\b(?:p99|QPS|CPU|Used) ?[\d.,]*…"
)
"""A figure cut short: a decimal number, or a number with its unit begun, straight before an
ellipsis; or a figure's label whose value was cut, even entirely (``QPS 45…``, ``p99 …``)."""
CUT_AFTER_INTEGER = re.compile(r"\d…")
"""Text cut right after a whole number (``store 2…``, ``to 17…``): an id may have lost digits,
or a sentence was cut after one. Listed, not failed: it is text cut at a pane's edge."""
DURATION = re.compile(r"^(?:(\d+)m(\d\d)s|(\d+)h(\d\d)m|([\d.]+)(µs|ms|s))$")


@dataclass
class Finding:
    step: str
    check: str
    ok: bool
    detail: str = ""
    lines: list[str] = field(default_factory=list)


class Pane:
    """One tmux server with one pane running the program."""

    def __init__(self, width: int, height: int, keep: Path | None) -> None:
        self.socket = f"walkthrough-{os.getpid()}"
        self.width, self.height = width, height
        self.keep = keep
        self.shots = 0

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return done.stdout

    def start(self, command: str) -> None:
        self.tmux("kill-server")
        self.tmux(
            "new-session", "-d", "-x", str(self.width), "-y", str(self.height), "-s", "w", command
        )

    def keys(self, *keys: str, pause_s: float = 0.4) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "w", key)
            time.sleep(pause_s)

    def capture(self, name: str) -> str:
        text = self.tmux("capture-pane", "-p", "-t", "w")
        self.shots += 1
        if self.keep is not None:
            (self.keep / f"{self.shots:02d}-{name}.txt").write_text(text, encoding="utf-8")
        return text

    def wait_for(
        self, name: str, ready: Callable[[str], bool], timeout_s: float, every_s: float = 0.5
    ) -> str | None:
        """Capture until ``ready`` holds (the last capture) or ``timeout_s`` passes (None)."""
        deadline = time.monotonic() + timeout_s
        while True:
            text = self.capture(name)
            if ready(text):
                return text
            if time.monotonic() >= deadline:
                return None
            time.sleep(every_s)

    def close(self) -> None:
        self.tmux("kill-server")


def cut_numbers(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if CUT_NUMBER.search(line)]


def seconds_of(cell: str) -> float | None:
    """A duration cell as the console writes it (``850µs``, ``5.70ms``, ``2m03s``) in seconds."""
    m = DURATION.match(cell)
    if m is None:
        return None
    if m.group(1):
        return int(m.group(1)) * 60 + int(m.group(2))
    if m.group(3):
        return int(m.group(3)) * 3600 + int(m.group(4)) * 60
    scale = {"µs": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(6)]
    return float(m.group(5)) * scale


def cut_after_integer(text: str) -> list[str]:
    return [
        line.rstrip()
        for line in text.splitlines()
        if CUT_AFTER_INTEGER.search(line) and not CUT_NUMBER.search(line)
    ]


def stores_column(text: str, heading: str) -> list[str]:
    """The cells under ``heading`` in the stores pane (the first table on the main screen):
    a column runs from its label to the next label (figures are right-justified in it)."""
    lines = text.splitlines()
    head = next((i for i, line in enumerate(lines) if "Store" in line and "p99" in line), None)
    if head is None:
        return []
    header = lines[head]
    match = re.search(rf"(?<=\s){re.escape(heading)}[▲▼]?(?=\s)", header)
    if match is None:
        return []
    following = re.search(r"\S", header[match.end() :])
    end = match.end() + following.start() if following else len(header)
    cells = []
    for line in lines[head + 1 :]:
        if not re.match(r"│ \d", line):
            break
        cells.append(line[match.start() - 1 : end - 1].strip())
    return cells


class Walk:
    def __init__(self, pane: Pane) -> None:
        self.pane = pane
        self.findings: list[Finding] = []
        self.text_cuts: list[str] = []
        """Lines whose text was cut right after a whole number (listed in the summary)."""

    def note(self, step: str, check: str, ok: bool, detail: str = "", lines=()) -> bool:
        finding = Finding(step, check, ok, detail, list(lines)[:5])
        self.findings.append(finding)
        print(json.dumps(finding.__dict__, ensure_ascii=False), flush=True)
        return ok

    def whole_numbers(self, step: str, text: str) -> None:
        cut = cut_numbers(text)
        self.note(step, "no cut number", not cut, f"{len(cut)} line(s) with a cut figure", cut)
        for line in cut_after_integer(text):
            if line not in self.text_cuts:
                self.text_cuts.append(line)

    def live(self, step: str, first: str) -> str:
        """Capture the screen again after more than a tick; it must have changed."""
        time.sleep(LIVE_GAP_S)
        second = self.pane.capture(step + "-again")
        changed = [
            b.rstrip()
            for a, b in zip(first.splitlines(), second.splitlines(), strict=False)
            if a != b
        ]
        self.note(
            step,
            "live",
            bool(changed),
            f"{len(changed)} line(s) changed in {LIVE_GAP_S:g} s",
            changed,
        )
        self.whole_numbers(step + " (again)", second)
        return second

    def screen(self, step: str, keys: list[str], marker: Callable[[str], bool]) -> str | None:
        self.pane.keys(*keys)
        text = self.pane.wait_for(step, marker, 10.0)
        if not self.note(step, "opened", text is not None, "" if text else "never appeared"):
            return None
        assert text is not None
        self.whole_numbers(step, text)
        return self.live(step, text)

    def sorted_by_p99(self, step: str, text: str, reverse: bool) -> None:
        cells = stores_column(text, "p99")
        values = [seconds_of(c) for c in cells]
        known = [v for v in values if v is not None]
        ordered = known == sorted(known, reverse=reverse) and len(known) >= 2
        arrow = "▼" if reverse else "▲"
        self.note(
            step,
            f"stores sorted by p99 {'descending' if reverse else 'ascending'}",
            ordered and f"p99{arrow}" in text,
            f"p99 column: {' '.join(cells)}",
        )


def walk(pane: Pane, incident_wait_s: float, workdir: Path) -> Walk:
    w = Walk(pane)
    env = {
        "TERM": "xterm-256color",
        "COLUMNS": str(pane.width),
        "LINES": str(pane.height),
        "HOME": str(workdir),
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    argv = [OPERATOR, "--demo", "--db", str(workdir / "tickets.db"), "--backend", "offline"]
    pane.start(f"env {exports} {shlex.join(argv)}; echo exited $?; sleep 30")

    main = pane.wait_for("main", lambda t: "Stores [1]" in t and "ago)" in t, 60.0)
    if not w.note("start", "main screen with a tick", main is not None):
        return w
    assert main is not None
    w.whole_numbers("main", main)
    w.live("main", main)

    pane.keys("Down", "f")
    menu = pane.wait_for("fault menu", lambda t: "Faults" in t and "slow disk" in t, 10.0)
    if not w.note("fault menu", "opened", menu is not None):
        return w
    pane.keys("Down", "Down", "Down")
    form = pane.wait_for("slow disk form", lambda t: "latency_ms" in t, 5.0)
    w.note("fault menu", "slow disk form", form is not None)
    pane.keys("Enter", "Enter")
    injected = pane.wait_for("injected", lambda t: "slow_disk on store" in t, 10.0)
    w.note("fault menu", "slow disk injected (event strip)", injected is not None)

    started = time.monotonic()
    seen_cut: list[str] = []
    opened = None
    while time.monotonic() - started < incident_wait_s:
        text = pane.capture("under slow disk")
        seen_cut += cut_numbers(text)
        if re.search(rf"store-{SLOW_STORE}\s", text):
            opened = text
            break
        time.sleep(2.0)
    w.note(
        "under slow disk",
        "no cut number in any capture while waiting",
        not seen_cut,
        f"{len(seen_cut)} line(s)",
        seen_cut,
    )
    waited = time.monotonic() - started
    if not w.note(
        "incident", f"store {SLOW_STORE}'s incident opened", opened is not None, f"{waited:.0f} s"
    ):
        return w
    assert opened is not None
    w.whole_numbers("main with incident", opened)

    w.screen("incident screen", ["3", "Enter"], lambda t: "Incident" in t or "incident" in t)
    pane.keys("Escape")
    pane.keys("1")
    w.screen("logs", ["l"], lambda t: "Logs" in t or "logs" in t)
    pane.keys("Escape")
    w.screen("graphs", ["m"], lambda t: "Graphs" in t and "last 5 min" in t)
    pane.keys("Escape")
    w.screen("store screen", ["Enter"], lambda t: f"Store {SLOW_STORE}" in t)
    w.screen("one-store graphs", ["m"], lambda t: f"Graphs store {SLOW_STORE}" in t)
    pane.keys("Escape", "Escape", "1")

    pane.keys("P")
    text = pane.wait_for("sorted", lambda t: "p99▲" in t, 5.0)
    w.sorted_by_p99("sort", text or pane.capture("sorted"), reverse=False)
    pane.keys("P")
    text = pane.wait_for("sorted reversed", lambda t: "p99▼" in t, 5.0)
    w.sorted_by_p99("sort again", text or pane.capture("sorted reversed"), reverse=True)

    pane.keys("q")
    done = pane.wait_for("quit", lambda t: "exited" in t, 15.0)
    code = re.search(r"exited (\d+)", done or "")
    w.note(
        "quit",
        "q exits with 0",
        code is not None and code.group(1) == "0",
        code[0] if code else "did not exit",
    )
    return w


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="120x40", help="WIDTHxHEIGHT of the pane")
    parser.add_argument("--keep", type=Path, help="keep every capture in this directory")
    parser.add_argument("--incident-wait", type=float, default=180.0, metavar="SECONDS")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is not installed (scripts/setup-test-tools.sh installs it)", file=sys.stderr)
        return 2
    width, _, height = args.size.partition("x")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    pane = Pane(int(width), int(height), args.keep)
    with tempfile.TemporaryDirectory(prefix="walkthrough-") as tmp:
        try:
            w = walk(pane, args.incident_wait, Path(tmp))
        finally:
            pane.close()
    failed = [f for f in w.findings if not f.ok]
    print(
        f"walk-through at {args.size}: {len(w.findings)} checks, {len(failed)} failed"
        + "".join(f"\n  FAILED {f.step}: {f.check} ({f.detail})" for f in failed)
    )
    if w.text_cuts:
        print(f"text cut right after a whole number (an id or a sentence?), {len(w.text_cuts)}:")
        for line in w.text_cuts[:20]:
            print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
