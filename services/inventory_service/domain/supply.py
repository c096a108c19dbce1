"""Supply on the way: ids and errors of transfers and purchase orders, and promise dates.

A backordered order's promise date is the expected arrival of the supply that covers its
missing units, first come first served over the orders waiting for each SKU (pure here;
the application reads the queues, the supplies and what each order asked for).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from services.inventory_service.domain.base import InventoryError

TRANSFER_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/transfers")
PURCHASE_ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/purchase-orders")

TRANSFER = "transfer"
PURCHASE_ORDER = "purchase_order"

NOW = datetime.min.replace(tzinfo=UTC)
"""A SKU's cover for an order that the units available now already fill."""


class Incoming(TypedDict):
    """Units of a SKU on their way to a location: still to arrive, and when they are expected."""

    kind: str  # TRANSFER or PURCHASE_ORDER
    location_id: str
    quantity: int
    expected_at: datetime | None


class SupplyNotFoundError(InventoryError):
    """No transfer or purchase order has this id."""


class SupplyConflictError(InventoryError):
    """A transfer or purchase order exists with other data, or cannot do this any more."""


class OverReceiptError(InventoryError):
    """More units received than are still expected (or a SKU that was never on it)."""


def transfer_id_for(transfer_id: str) -> UUID:
    """The aggregate id of a transfer, derived from its own id (creation is idempotent)."""
    return uuid5(TRANSFER_NAMESPACE, transfer_id)


def purchase_order_id_for(po_id: str) -> UUID:
    """The aggregate id of a purchase order, derived from its own id."""
    return uuid5(PURCHASE_ORDER_NAMESPACE, po_id)


def supply_key(kind: str, supply_id: str) -> str:
    """How a SKU's stock names one supply on the way (a transfer or a purchase order)."""
    return f"{kind}:{supply_id}"


def covers(
    demands: list[tuple[str, int]], available: int, supplies: list[tuple[datetime, int]]
) -> dict[str, datetime | None]:
    """When each waiting order's units of one SKU are there, first come first served.

    demands: (order, units) in queue order; available: units that can be promised now;
    supplies: (expected at, units) on the way. NOW when the units available now fill the
    order, None when nothing expected does.
    """
    result: dict[str, datetime | None] = {}
    pending = sorted(supplies)
    demand, supply, taken, last = 0, available, 0, NOW
    for order, units in demands:
        demand += units
        while supply < demand and taken < len(pending):
            last, arriving = pending[taken]
            supply += arriving
            taken += 1
        result[order] = (last if demand > available else NOW) if supply >= demand else None
    return result


def promise_date(cover: list[datetime | None]) -> datetime | None:
    """An order's promise date from its SKUs' covers: the latest, if every SKU is covered.

    None when a SKU is covered by nothing expected, or when all are there now (the order is
    about to be filled: nothing to promise).
    """
    if not cover or any(date is None for date in cover):
        return None
    latest = max(date for date in cover if date is not None)
    return None if latest == NOW else latest
