"""Subcommands of the ``operator-tui`` CLI, one module each with ``register`` and ``run``."""
