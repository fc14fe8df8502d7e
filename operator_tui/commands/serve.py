"""``operator-tui serve``: the same app in a browser, through textual-serve.

Each browser tab that opens the page starts its own ``operator-tui`` process with the global
options given here (``--demo``, ``--pd``, ``--config`` ...), so a shared on-call screen shows
what the terminal would. There is no login: the page hands whoever reaches it the console and
its keys (kill, approve), so it listens on loopback unless told otherwise, and says so loudly
when it is not.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys

from operator_tui.config import Settings

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})

# (namespace attribute, option) of the global options a served app inherits.
PASSED_ON = (
    ("config", "--config"),
    ("pd", "--pd"),
    ("prometheus", "--prometheus"),
    ("db", "--db"),
    ("interval", "--interval"),
    ("demo", "--demo"),
    ("backend", "--backend"),
    ("mode", "--mode"),
    ("allow_chaos", "--allow-chaos"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the app to web browsers (textual-serve), for a shared on-call screen",
        description="Serve the full-screen app over HTTP: every browser tab gets its own app "
        "with the global options given here. No login: keep it on loopback or behind an "
        "authenticating proxy.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL browsers use to reach this server, when it is not http://HOST:PORT",
    )


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def app_command(args: argparse.Namespace) -> str:
    """The shell command each browser session runs: this Python, this app, the global options."""
    argv = [sys.executable, "-m", "operator_tui"]
    for attr, flag in PASSED_ON:
        value = getattr(args, attr, None)
        if value is None or value is False:
            continue
        argv += [flag] if value is True else [flag, str(value)]
    return shlex.join(argv)


def warning(host: str, port: int) -> str | None:
    if is_loopback(host):
        return None
    return (
        f"operator-tui: warning: serving on {host}:{port}, beyond this machine: anyone who "
        "reaches it gets the operator's console and its keys, with no login; prefer the "
        "default 127.0.0.1 behind an SSH tunnel or an authenticating proxy"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from textual_serve.server import Server

    if not 0 < args.port < 65536:
        print("operator-tui: error: --port must be between 1 and 65535", file=sys.stderr)
        return 2
    if (message := warning(args.host, args.port)) is not None:
        print(message, file=sys.stderr, flush=True)
    url = args.public_url or f"http://{args.host}:{args.port}"
    print(f"operator-tui: serving the app at {url}", file=sys.stderr, flush=True)
    server = Server(
        app_command(args), host=args.host, port=args.port, title="operator-tui", public_url=url
    )
    server.serve()
    return 0
