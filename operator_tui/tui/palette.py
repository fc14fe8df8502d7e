"""Command palette provider: every action of the key list, searchable by its description."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from operator_tui.tui.keys import KEY_ACTIONS

SKIPPED = {"command_palette", "back", "focus_next", "cursor_down", "cursor_home", "sort"}


class OperatorCommands(Provider):
    def _entries(self) -> list[tuple[str, str, str]]:
        return [
            (k.description, f"key: {k.label}", k.target)
            for k in KEY_ACTIONS
            if k.action not in SKIPPED
        ]

    async def discover(self) -> Hits:
        for title, help_text, action in self._entries():
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
