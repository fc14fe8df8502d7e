"""Screenshot of ``operator-tui serve --demo`` in headless Chromium: ``screenshots/serve-browser.png``.

uv run python scripts/serve_screenshot.py [--out screenshots/serve-browser.png]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from operator_tui.testing.chromium import render
from operator_tui.testing.served import serving

ROOT = Path(__file__).resolve().parents[1]
WANTED = ("Stores", "PD leader", "3/3 up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots" / "serve-browser.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, serving(Path(tmp), "--demo") as url:
        page = asyncio.run(render(url, WANTED, size=(1400, 760), settle_s=3.0))
    args.out.write_bytes(page.screenshot_png)
    print(f"{args.out}: {len(page.screenshot_png)} bytes")


if __name__ == "__main__":
    main()
