"""Stock sync: keep what inventory says each channel may sell, for the worker to push.

The figures are kept in a table of their own (not events): only the latest matters, and a
burst of changes to one SKU must not grow the event log. Keeping one is idempotent and
order-safe by the SKU's stock version (a redelivered or older figure changes nothing), so it
needs no place in the consumer's transaction (docs/architecture.md, "Stock sync").
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from shared.runtime.application import UseCases

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders


class WantedStock(Protocol):
    """Where the latest figure of each SKU is kept (the views' stock_wanted table)."""

    def want_stock(
        self, sku: str, stock_version: int, channels: dict[str, Any], changed_at: datetime
    ) -> bool:
        """Keep this figure unless a later one is kept already; True if kept."""
        ...


class StockSync(UseCases["ChannelOrders"]):
    """What each channel may sell of each SKU, latest wins."""

    app: ChannelOrders

    def __init__(self, app: ChannelOrders) -> None:
        super().__init__(app)
        self.store: WantedStock | None = None

    def attach(self, store: WantedStock) -> None:
        """Where figures are kept (bootstrap attaches the views)."""
        self.store = store

    def want(
        self, sku: str, stock_version: int, channels: dict[str, Any], changed_at: datetime
    ) -> bool:
        """Keep what the SKU's channels may sell now; True unless a later figure was kept."""
        if self.store is None:
            raise RuntimeError("stock sync has no store: bootstrap attaches the views")
        return self.store.want_stock(sku, stock_version, channels, changed_at)
