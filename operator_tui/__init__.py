"""operator-tui: an AI operator for TiKV clusters that lives in the terminal."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("operator-tui")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0+unknown"
