"""Drill-down, help and dialog screens."""
