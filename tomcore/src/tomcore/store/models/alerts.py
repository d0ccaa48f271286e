"""Saved broker queries and their runs (filled in by the alerts area)."""

__all__: list[str] = []
