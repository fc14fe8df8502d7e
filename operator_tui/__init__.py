"""operator-tui: an AI operator for TiKV clusters that lives in the terminal."""

__version__ = "0.1.0"
