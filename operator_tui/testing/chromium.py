"""Drive a headless Chromium over the DevTools protocol: open a page, wait until the terminal
bytes it receives over its WebSockets show given texts, check the page, take a screenshot.

textual-serve draws the app on a canvas, so the page's DOM has no text to read; what the browser
received is read instead (``Network.webSocketFrameReceived``: the app's own terminal output),
and the page's ``-first-byte`` class says the terminal took it. Used by the ``serve`` test and
``scripts/serve_screenshot.py``; Debian's ``chromium`` (scripts/setup-test-tools.sh) is enough.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import shutil
import tempfile
from dataclasses import dataclass
from itertools import count
from typing import Any

import aiohttp

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
MAX_MESSAGES = 200_000


class BrowserError(Exception):
    pass


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


@dataclass(frozen=True, slots=True)
class PageResult:
    terminal_text: str
    first_byte: bool
    screenshot_png: bytes


async def render(
    url: str,
    wanted: tuple[str, ...],
    *,
    size: tuple[int, int] = (1400, 900),
    timeout_s: float = 60.0,
    settle_s: float = 1.5,
) -> PageResult:
    """Open ``url``; return once every text of ``wanted`` reached the page's terminal."""
    binary = find_chromium()
    if binary is None:
        raise BrowserError("no chromium on PATH")
    with tempfile.TemporaryDirectory(prefix="operator-chromium-") as profile:
        proc = await asyncio.create_subprocess_exec(
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--window-size={size[0]},{size[1]}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(timeout_s):
                port = await _devtools_port(proc)
                return await _drive(port, url, wanted, settle_s)
        except TimeoutError:
            raise BrowserError(
                f"{url}: {', '.join(wanted)} not shown within {timeout_s:.0f} s"
            ) from None
        finally:
            if proc.returncode is None:
                proc.terminate()
                with contextlib.suppress(ProcessLookupError, TimeoutError):
                    await asyncio.wait_for(proc.wait(), timeout=10)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def _devtools_port(proc: asyncio.subprocess.Process) -> int:
    assert proc.stderr is not None
    for _ in range(1000):
        line = (await proc.stderr.readline()).decode(errors="replace")
        if not line:
            break
        if m := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line):
            return int(m.group(1))
    raise BrowserError("chromium did not open its DevTools port")


async def _drive(port: int, url: str, wanted: tuple[str, ...], settle_s: float) -> PageResult:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
            targets = await resp.json()
        page = next(t for t in targets if t.get("type") == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = count(1)
            replies: dict[int, asyncio.Future[Any]] = {}
            received: list[str] = []

            async def call(method: str, **params: Any) -> Any:
                n = next(ids)
                replies[n] = asyncio.get_running_loop().create_future()
                await ws.send_json({"id": n, "method": method, "params": params})
                return await replies[n]

            async def read() -> None:
                for _ in range(MAX_MESSAGES):
                    msg = await ws.receive_json()
                    if "id" in msg and msg["id"] in replies:
                        replies.pop(msg["id"]).set_result(msg.get("result", msg.get("error")))
                    elif msg.get("method") == "Network.webSocketFrameReceived":
                        frame = msg["params"]["response"]
                        data = frame.get("payloadData", "")
                        if frame.get("opcode") == 2:
                            data = base64.b64decode(data).decode("utf-8", errors="replace")
                        received.append(data)

            reader = asyncio.create_task(read())
            try:
                await call("Network.enable")
                await call("Page.enable")
                await call("Page.navigate", url=url)
                while not all(w in _text(received) for w in wanted):
                    await asyncio.sleep(0.2)
                    if reader.done():
                        reader.result()
                        raise BrowserError("DevTools connection closed")
                await asyncio.sleep(settle_s)
                first = await call(
                    "Runtime.evaluate",
                    expression="document.body.classList.contains('-first-byte')",
                    returnByValue=True,
                )
                shot = await call("Page.captureScreenshot", format="png")
                return PageResult(
                    _text(received),
                    bool(first.get("result", {}).get("value")),
                    base64.b64decode(shot["data"]),
                )
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader


def _text(frames: list[str]) -> str:
    return ANSI.sub("", "".join(frames))
