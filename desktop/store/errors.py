"""The store's one error type: a clear one-line message about the chart file or a refused change."""

from __future__ import annotations


class StoreError(Exception):
    """A clear one-line message about the chart file or a refused change."""
