"""Finds subject plugins through the ``operator_tui.subjects`` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from operator_tui.core.plugin import SubjectPlugin
from operator_tui.core.subject import SubjectError

GROUP = "operator_tui.subjects"


def available_subjects() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def subject_versions() -> list[tuple[str, str, str]]:
    """``(subject, distribution, version)`` for each installed plugin, without importing it."""
    out = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        dist = ep.dist
        out.append((ep.name, dist.name if dist else "?", dist.version if dist else "?"))
    return out


def load_plugin(name: str) -> SubjectPlugin:
    for ep in entry_points(group=GROUP):
        if ep.name == name:
            plugin = ep.load()
            if not isinstance(plugin, SubjectPlugin):
                raise SubjectError(f"subject plugin {name!r} does not implement SubjectPlugin")
            return plugin
    known = ", ".join(available_subjects()) or "none installed"
    raise SubjectError(f"unknown subject {name!r} (available: {known})")
