"""A SKU's stock as it was at a time, and its movements: read from the Stock's stored events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from eventsourcing.domain import Aggregate

from services.inventory_service.domain import LevelEvent, Stock, StockNotFoundError, stock_id_for
from shared.runtime.application import UseCases

if TYPE_CHECKING:
    from services.inventory_service.application import Inventory  # noqa: F401

# Why a level changed, per stored event class: the public StockLevelChanged's reason too.
MOVEMENT_REASONS: dict[type[object], str] = {
    Stock.Received: "receipt",
    Stock.Adjusted: "adjustment",
    Stock.Reserved: "reserved",
    Stock.Released: "released",
    Stock.Shipped: "shipped",
    Stock.Returned: "returned",
    Stock.ShortPicked: "short_pick",
    Stock.Quarantined: "quarantined",
    Stock.QuarantineReleased: "quarantine_released",
    Stock.TransferShipped: "transfer_shipped",
    Stock.TransferReceived: "transfer_received",
    Stock.TransferCancelled: "transfer_cancelled",
    Stock.PurchaseReceived: "purchase_received",
}

# The event fields that say what caused a movement, as the event carries them.
_CAUSES = (
    "receipt_id",
    "reference",
    "adjustment_id",
    "reason",
    "order_id",
    "shipment_id",
    "return_id",
    "discrepancy_id",
    "movement_id",
    "to",
    "transfer_id",
    "from_location",
    "to_location",
    "po_id",
)


@dataclass(frozen=True)
class Movement:
    """One level change of a SKU at a location: what moved, why, and the level after it."""

    at: datetime
    location_id: str
    kind: str
    quantity: int
    cause: dict[str, str | None]
    on_hand: int
    reserved: int
    missing: int
    available: int
    bin: str | None


def movement_of(e: LevelEvent) -> Movement:
    """The movement a stored level event records."""
    fields = cast(dict[str, Any], vars(e))
    quantity = fields.get("quantity_delta", fields.get("quantity", 0))
    return Movement(
        at=e.timestamp,
        location_id=e.location_id,
        kind=MOVEMENT_REASONS[type(e)],
        quantity=quantity,
        cause={name: fields[name] for name in _CAUSES if name in fields},
        on_hand=e.on_hand,
        reserved=e.reserved,
        missing=e.missing,
        available=e.available,
        bin=e.bin,
    )


class History(UseCases["Inventory"]):
    """What a SKU's stock was, and every unit that moved, from its event log."""

    def _events(self, sku: str) -> Iterator[Aggregate.Event]:
        """The Stock's stored events, oldest first (snapshots are not events)."""
        for e in self.app.repository.event_store.get(stock_id_for(sku)):
            yield cast(Aggregate.Event, e)

    def stock_at(self, sku: str, at: datetime) -> Stock:
        """A SKU's stock as its events up to `at` leave it; 404 when it had none by then."""
        version = None
        for e in self._events(sku):
            if e.timestamp > at:
                break
            version = e.originator_version
        if version is None:
            raise StockNotFoundError(f"no stock was recorded for {sku} by {at.isoformat()}")
        stock: Aggregate = self.app.repository.get(stock_id_for(sku), version=version)
        if not isinstance(stock, Stock):
            raise StockNotFoundError(f"no stock was recorded for {sku}")
        return stock

    def movements(
        self,
        sku: str,
        location_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Movement]:
        """Every level change of a SKU (at a location, in [since, until]), newest first."""
        found = False
        moved: list[Movement] = []
        for e in self._events(sku):
            found = True
            if type(e) not in MOVEMENT_REASONS:
                continue
            row = movement_of(cast(LevelEvent, e))
            if location_id is not None and row.location_id != location_id:
                continue
            if (since is not None and row.at < since) or (until is not None and row.at > until):
                continue
            moved.append(row)
        if not found:
            raise StockNotFoundError(f"no stock was ever recorded for {sku}")
        moved.reverse()
        return moved
