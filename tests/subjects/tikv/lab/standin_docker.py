"""A stand-in ``docker`` executable for tests: records argv, answers like the real CLI.

Tests write a small wrapper into tmp_path that runs this file, and steer it through the
environment: STANDIN_LOG (file receiving one JSON object per call: argv and the
YCSB_WORKLOAD it saw), STANDIN_MODE
(ok | no-compose | old-compose | no-daemon | permission), STANDIN_PS (file answered to
``compose ps --format json``), STANDIN_FAIL (compose subcommand that fails) with
STANDIN_FAIL_STDERR; with STANDIN_PIDFILE a followed ``logs`` writes its pid there and keeps
running like the real one. The messages are the ones docker 28 and compose v2 print.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

GLOBAL_FLAGS_WITH_VALUE = {
    "--file",
    "-f",
    "--profile",
    "--project-name",
    "-p",
    "--project-directory",
    "--env-file",
}


def compose_subcommand(args: list[str]) -> tuple[str, list[str]]:
    i = 0
    while i < len(args):
        if args[i] in GLOBAL_FLAGS_WITH_VALUE:
            i += 2
        elif args[i].startswith("-"):
            i += 1
        else:
            return args[i], args[i + 1 :]
    return "", []


def main(argv: list[str]) -> int:
    mode = os.environ.get("STANDIN_MODE", "ok")
    log = os.environ.get("STANDIN_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            record = {"argv": argv, "YCSB_WORKLOAD": os.environ.get("YCSB_WORKLOAD")}
            fh.write(json.dumps(record) + "\n")
    if argv[:1] == ["version"]:
        if mode == "no-daemon":
            sys.stderr.write(
                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                "Is the docker daemon running?\n"
            )
            return 1
        if mode == "permission":
            sys.stderr.write(
                "permission denied while trying to connect to the Docker daemon socket at "
                'unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.50/version": '
                "dial unix /var/run/docker.sock: connect: permission denied\n"
            )
            return 1
        print("28.2.2")
        return 0
    if argv[:1] != ["compose"]:
        sys.stderr.write(f"docker: unknown command: docker {argv[0] if argv else ''}\n")
        return 1
    if mode == "no-compose":
        sys.stderr.write(
            "unknown flag: --short\n\nUsage:  docker [OPTIONS] COMMAND [ARG...]\n\n"
            "Run 'docker --help' for more information\n"
        )
        return 125
    sub, rest = compose_subcommand(argv[1:])
    if sub == os.environ.get("STANDIN_FAIL"):
        sys.stderr.write(
            os.environ.get(
                "STANDIN_FAIL_STDERR", " Container operator-tikv-pd0-1  Started\nfailed\n"
            )
        )
        return 1
    if sub == "version":
        print("2.12.2" if mode == "old-compose" else "2.29.7")
        return 0
    if sub == "ps":
        ps = os.environ.get("STANDIN_PS")
        if ps:
            sys.stdout.write(Path(ps).read_text(encoding="utf-8"))
        return 0
    if sub == "logs":
        names = [a for a in rest if not a.startswith("-") and not a.isdigit()] or ["pd0", "tikv0"]
        for name in names:
            # Like compose: a container's stderr (TiKV logs there) comes out on stderr.
            out = sys.stderr if name.startswith("tikv") else sys.stdout
            print(
                f'{name}-1  | [2026/11/22 14:02:41.000 +00:00] [INFO] [server.rs:100] ["hello from {name}"]',
                file=out,
                flush=True,
            )
        if "--follow" in rest and os.environ.get("STANDIN_PIDFILE"):
            sys.stdout.flush()
            Path(os.environ["STANDIN_PIDFILE"]).write_text(str(os.getpid()))
            time.sleep(120)
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
