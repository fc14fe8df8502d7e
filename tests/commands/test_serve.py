"""``operator-tui serve``: loopback by default, a warning beyond it, global options passed on to
each browser session's app, and the main screen drawn in headless Chromium."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

import pytest

from operator_tui.cli import build_parser
from operator_tui.commands import serve
from operator_tui.testing.chromium import find_chromium, render
from operator_tui.testing.served import serving


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_loopback_by_default_and_a_warning_beyond() -> None:
    args = _args("serve")
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    for host in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"):
        assert serve.warning(host, 8000) is None
    for host in ("0.0.0.0", "::", "10.0.0.5", "oncall.example"):
        message = serve.warning(host, 8000)
        assert message is not None and "no login" in message and host in message


def test_global_options_reach_each_session() -> None:
    args = _args("--pd", "http://pd:2379", "serve", "--demo", "--mode", "approve", "--port", "9")
    argv = shlex.split(serve.app_command(args))
    assert argv[:3] == [sys.executable, "-m", "operator_tui"]
    assert argv[3:] == ["--pd", "http://pd:2379", "--demo", "--mode", "approve"]
    assert "serve" not in argv and "--port" not in argv


@pytest.mark.slow
async def test_main_screen_renders_in_headless_chromium(tmp_path: Path) -> None:
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/setup-test-tools.sh installs it")
        pytest.skip("no chromium on PATH (scripts/setup-test-tools.sh installs Debian's)")
    with serving(tmp_path, "--demo") as url:
        page = await render(url, ("Stores", "PD leader", "3/3 up"), timeout_s=90)
    assert page.first_byte, "the page's terminal never took the app's output"
    assert page.screenshot_png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "Hot write regions" in page.terminal_text
