"""Where the lab's files are, and the lab's state directory.

The compose project is package data of this subject (``operator_tikv/lab/compose``), so an
installed wheel has it (the scenarios are in ``operator_tikv.shipped``). Docker Compose needs real files next to each other (configs mounted by relative path, a build
context for the load generator, downloaded dashboards), so ``materialize`` copies the project into
a state directory the user owns (``$XDG_STATE_HOME/operator-tui/lab`` unless told otherwise) and
the engine runs it from there, whatever the working directory.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from importlib.resources import files
from pathlib import Path

from operator_tui.core.deploy import DeployError

PACKAGE = Path(str(files("operator_tikv")))
CHECKOUT = PACKAGE.parents[2]
"""The repository root when the package runs from a clone (``subjects/tikv/operator_tikv``)."""

MARKER = ".operator-tui-lab"
COMPOSE_FILE = "docker-compose.yml"


def lab_source() -> Path:
    """The compose project as shipped: in the package, or where a clone had it before."""
    for candidate in (PACKAGE / "lab" / "compose", CHECKOUT / "compose" / "tikv"):
        if (candidate / COMPOSE_FILE).is_file():
            return candidate
    raise DeployError(f"the lab's compose project is missing from {PACKAGE / 'lab' / 'compose'}")


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/operator-tui/lab`` (``~/.local/state/operator-tui/lab``); the setting
    ``tikv.lab_dir`` and ``deploy local --dir`` choose another."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base).expanduser() / "operator-tui" / "lab"


def checkout_root() -> Path | None:
    """The clone this package runs from, when it does (where the operator image builds from)."""
    root = CHECKOUT
    return root if (root / "Dockerfile").is_file() and (root / "pyproject.toml").is_file() else None


def current_compose_file(directory: Path) -> Path:
    """The lab's compose file in ``directory`` once materialized, else the shipped one (enough
    to read its services and to ask the engine about a project already running)."""
    here = directory.expanduser() / COMPOSE_FILE
    return (
        here
        if (directory.expanduser() / MARKER).is_file() and here.is_file()
        else lab_source() / COMPOSE_FILE
    )


def materialize(dest: Path, source: Path | None = None) -> Path:
    """Copy the lab's project into ``dest`` (made if absent) and return its compose file.

    Files the package ships are written when they differ, so an upgrade brings new configs;
    anything else in ``dest`` (downloaded dashboards, ``.env`` overrides) stays. A non-empty
    directory that is not a lab already is refused rather than written into.
    """
    source = source or lab_source()
    dest = dest.expanduser().resolve()
    if dest.exists() and not dest.is_dir():
        raise DeployError(f"lab directory {dest} is a file")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / MARKER).exists():
        raise DeployError(
            f"lab directory {dest} is not empty and holds no lab; choose another with --dir"
        )
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for path in sorted(source.rglob("*")):
            if "__pycache__" in path.parts:
                continue
            target = dest / path.relative_to(source)
            if path.is_dir():
                target.mkdir(exist_ok=True)
            elif not target.is_file() or not filecmp.cmp(path, target, shallow=False):
                shutil.copy2(path, target)
        (dest / "grafana" / "official").mkdir(parents=True, exist_ok=True)
        (dest / MARKER).write_text(f"source={source}\n", encoding="utf-8")
        _write_env(dest)
    except OSError as exc:
        raise DeployError(f"cannot write the lab into {dest}: {exc.strerror or exc}") from None
    return dest / COMPOSE_FILE


def _write_env(dest: Path) -> None:
    """``OPERATOR_SOURCE`` for the operator image's build context, when run from a clone; the
    user's own lines in ``.env`` are kept."""
    env = dest / ".env"
    lines = env.read_text(encoding="utf-8").splitlines() if env.is_file() else []
    lines = [ln for ln in lines if not ln.startswith("OPERATOR_SOURCE=")]
    root = checkout_root()
    if root is not None:
        lines.append(f"OPERATOR_SOURCE={root}")
    env.write_text("".join(f"{ln}\n" for ln in lines), encoding="utf-8")
