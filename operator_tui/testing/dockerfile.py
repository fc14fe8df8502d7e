"""The repository's Dockerfile and .dockerignore read as data, for the tests that check the image
statically and run its build steps outside Docker. Only the forms the Dockerfile uses are read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout (this module is only meaningful from one)."""
DOCKERFILE = ROOT / "Dockerfile"


def stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined, comments dropped), per stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            out.append([])
        out[-1].append(line)
    return out


def instructions(stage: list[str], keyword: str) -> list[str]:
    return [i.split(None, 1)[1] for i in stage if i.split(None, 1)[0].upper() == keyword]


def dockerignore_kept() -> set[str]:
    """The paths ``.dockerignore`` lets in: it excludes everything (``*``) and names each keep."""
    lines = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    assert lines[0] == "*", "exclude by default: the context is the whole checkout"
    return {ln[1:] for ln in lines if ln.startswith("!")}
