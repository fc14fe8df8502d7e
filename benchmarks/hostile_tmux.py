"""The operator's front ends in a real terminal (tmux) against the hostile PD impersonator.

For each variant of ``operator_tui.testing.hostile_pd`` it starts the impersonator, then
runs in a tmux pane: the full-screen app (ticks, the store screen, the ticket screen),
``check``, ``tickets list``, ``tickets show 1``, headless mode, and once ``eval`` on the
control scenario. Every byte the programs write to the terminal is recorded
(``pipe-pane``) and checked: no traceback, no hostile escape sequence (OSC retitle,
clear screen, OSC 8 hyperlink, 8-bit CSI, BiDi override), no markup tag rendered where
the variant carries markup (the tags must show literally), the pane title untouched,
and peak RSS under the limit.

    uv run python benchmarks/hostile_tmux.py [--variants mixed,markup] [--seconds 8]

Prints one JSON object per run and a summary; exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OPERATOR = os.environ.get("HOSTILE_OPERATOR", str(BIN / "operator-tui"))
"""The program under test; another checkout's for a before/after comparison."""
RSS_LIMIT_MB = 300.0
FORBIDDEN = {
    "OSC retitle": b"\x1b]0;pwned",
    "clear screen from data": b"\x1b[2Jred",
    "OSC 8 link to a file": b"\x1b]8;;file:///etc/passwd",
    "8-bit CSI": "\x9b".encode(),
    "BiDi override": "\u202e".encode(),
    "BiDi isolate": "\u2066".encode(),
    "traceback": b"Traceback (most recent call last)",
}
MARKUP_LITERAL = b"[bold red]RED"
VARIANTS = (
    "mixed",
    "markup",
    "escapes",
    "bidi",
    "huge_label",
    "endless",
    "huge_id",
    "surrogates",
    "redirect",
)


@dataclass
class Run:
    variant: str
    command: str
    exit_code: int | None
    peak_rss_mb: float
    seconds: float
    problems: list[str] = field(default_factory=list)


def tmux(*args: str, socket: str) -> str:
    out = subprocess.run(
        ["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30, check=False
    )
    return out.stdout.strip()


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children, in MiB (0 when gone)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def run_in_pane(
    variant: str,
    argv: list[str],
    *,
    workdir: Path,
    env: dict[str, str],
    seconds: float,
    keys: list[tuple[float, str]] = (),
    markup_expected: bool,
    expected_codes: tuple[int, ...] = (0, 1, 2),
) -> Run:
    """One command in a fresh 200x50 tmux pane; keys are (delay, tmux key) sent in order."""
    socket = f"hostile-{os.getpid()}"
    raw = workdir / f"{variant}-{len(list(workdir.iterdir()))}.raw"
    status = workdir / "status"
    status.unlink(missing_ok=True)
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    line = f"env {exports} {shlex.join(argv)}; echo $? > {shlex.quote(str(status))}; sleep 0.5"
    tmux("kill-server", socket=socket)
    tmux("new-session", "-d", "-x", "200", "-y", "50", "-s", "h", line, socket=socket)
    tmux("pipe-pane", "-o", "-t", "h", f"cat >> {shlex.quote(str(raw))}", socket=socket)
    pid = int(tmux("display", "-p", "-t", "h", "#{pane_pid}", socket=socket) or 0)
    start = time.monotonic()
    peak = 0.0
    pending = list(keys)
    next_key = start + (pending[0][0] if pending else 0)
    deadline = start + seconds
    while time.monotonic() < deadline and not status.exists():
        peak = max(peak, rss_mb(pid)) if pid else peak
        if pending and time.monotonic() >= next_key:
            tmux("send-keys", "-t", "h", pending.pop(0)[1], socket=socket)
            next_key = time.monotonic() + (pending[0][0] if pending else 0)
        time.sleep(0.1)
    title = tmux("display", "-p", "-t", "h", "#{pane_title}", socket=socket)
    if not status.exists():
        tmux("send-keys", "-t", "h", "C-c", socket=socket)
        for _ in range(100):
            if status.exists():
                break
            time.sleep(0.1)
    code = int(status.read_text().strip() or -1) if status.exists() else None
    tmux("kill-server", socket=socket)
    data = raw.read_bytes() if raw.exists() else b""
    problems = [f"{name} reached the terminal" for name, seq in FORBIDDEN.items() if seq in data]
    if code is not None and code not in expected_codes:
        problems.append(f"exit code {code}")
    if "pwned" in title:
        problems.append(f"pane retitled to {title!r}")
    if markup_expected and MARKUP_LITERAL not in data:
        problems.append("the markup in the data was not shown as text")
    if peak > RSS_LIMIT_MB:
        problems.append(f"peak RSS {peak:.0f} MB over {RSS_LIMIT_MB:.0f} MB")
    if code is None:
        problems.append("did not exit")
    return Run(
        variant,
        " ".join(argv[1:]) or "app",
        code,
        round(peak, 1),
        round(time.monotonic() - start, 1),
        problems,
    )


def variant_runs(variant: str, seconds: float, workdir: Path) -> list[Run]:
    with socket_port() as port:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "operator_tui.testing.hostile_pd",
                "--variant",
                variant,
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        time.sleep(1.0)
        db = workdir / f"{variant}.db"
        common = [
            OPERATOR,
            "--pd",
            f"http://127.0.0.1:{port}",
            "--db",
            str(db),
            "--backend",
            "offline",
        ]
        env = {"OPERATOR_MONITOR__INTERVAL_S": "1", "COLUMNS": "200", "TERM": "xterm-256color"}
        markup = variant in ("mixed", "markup")
        runs = [
            run_in_pane(
                variant,
                common,
                workdir=workdir,
                env=env,
                seconds=seconds + 6,
                keys=[
                    (seconds / 2, "enter"),
                    (1.5, "Escape"),
                    (0.5, "3"),
                    (0.5, "Enter"),
                    (seconds / 2, "Escape"),
                    (0.5, "q"),
                ],
                markup_expected=markup,
            ),
            run_in_pane(
                variant,
                [*common, "check"],
                workdir=workdir,
                env=env,
                seconds=30,
                markup_expected=markup,
            ),
            run_in_pane(
                variant,
                [*common, "tickets", "list", "--all"],
                workdir=workdir,
                env=env,
                seconds=20,
                markup_expected=False,
            ),
            run_in_pane(
                variant,
                [*common, "tickets", "show", "1"],
                workdir=workdir,
                env=env,
                seconds=20,
                markup_expected=False,
            ),
            run_in_pane(
                variant,
                [*common, "--no-ui"],
                workdir=workdir,
                env=env,
                seconds=seconds,
                markup_expected=False,
            ),
        ]
    finally:
        server.terminate()
        server.wait(10)
    return runs


class socket_port:
    """A free loopback port (bound, read, released)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def eval_run(workdir: Path) -> Run:
    argv = [OPERATOR, "--db", str(workdir / "eval.db"), "eval", "--only", "control-steady-load"]
    env = {"COLUMNS": "200", "TERM": "xterm-256color"}
    return run_in_pane(
        "eval",
        argv,
        workdir=workdir,
        env=env,
        seconds=240,
        markup_expected=False,
        expected_codes=(0,),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--no-eval", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None:
        print("tmux is not installed (scripts/setup-test-tools.sh installs it)", file=sys.stderr)
        return 2
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="hostile-tmux-") as tmp:
        workdir = Path(tmp)
        for variant in args.variants.split(","):
            for run in variant_runs(variant, args.seconds, workdir):
                print(json.dumps(asdict(run)), flush=True)
                runs.append(run)
        if not args.no_eval:
            run = eval_run(workdir)
            print(json.dumps(asdict(run)), flush=True)
            runs.append(run)
    failed = [r for r in runs if r.problems]
    peak = max((r.peak_rss_mb for r in runs), default=0.0)
    print(json.dumps({"runs": len(runs), "failed": len(failed), "peak_rss_mb": peak}))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
