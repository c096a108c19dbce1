"""The type of ViewStore.page, as the view modules of the one gateway view store call it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Rows = tuple[list[dict[str, Any]], int]
Page = Callable[..., Rows]
"""(table, order_by=, limit=, offset=, **equals) -> (rows of the page, how many match)."""
