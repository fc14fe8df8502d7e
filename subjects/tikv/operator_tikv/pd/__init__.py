"""PD's HTTP API: typed models and a client that fails over between PD members."""

from operator_tikv.pd.client import PDClient, PDError, PDUnreachable

__all__ = ["PDClient", "PDError", "PDUnreachable"]
