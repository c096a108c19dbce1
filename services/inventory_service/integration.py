"""Pure mappings: inventory domain events -> integration events; integration events -> use cases."""

from __future__ import annotations

from typing import Any

from services.inventory_service.application import Inventory
from services.inventory_service.domain import Reservation, Stock
from shared import events as ev
from shared.runtime.application import UnitOfWork

# Why a SKU's level changed, per Stock event; the other Stock events change no level.
LEVEL_REASONS: dict[type, str] = {
    Stock.Received: "receipt",  # type: ignore[attr-defined]
    Stock.Adjusted: "adjustment",  # type: ignore[attr-defined]
    Stock.Reserved: "reserved",  # type: ignore[attr-defined]
    Stock.Released: "released",  # type: ignore[attr-defined]
    Stock.Shipped: "shipped",  # type: ignore[attr-defined]
    Stock.Returned: "returned",  # type: ignore[attr-defined]
    Stock.ShortPicked: "short_pick",  # type: ignore[attr-defined]
}


def to_integration(domain_event: Any) -> ev.IntegrationEvent | None:
    """The public event for a stored inventory event, or None for internal-only facts."""
    reason = LEVEL_REASONS.get(type(domain_event))
    if reason is not None:
        return _level_changed(domain_event, reason)
    mapper = _MAPPERS.get(type(domain_event))
    return mapper(domain_event) if mapper else None


def _level_changed(e: Any, reason: str) -> ev.StockLevelChanged:
    return ev.StockLevelChanged(
        sku=e.sku,
        location_id=e.location_id,
        on_hand=e.on_hand,
        reserved=e.reserved,
        available=e.available,
        reason=reason,
        changed_at=e.timestamp,
        bin=getattr(e, "bin", None),  # stored before bins existed: none
    )


def _bin_assigned(e: Any) -> ev.BinAssigned:
    return ev.BinAssigned(
        sku=e.sku,
        location_id=e.location_id,
        bin=e.bin,
        previous_bin=e.previous_bin,
        assigned_at=e.timestamp,
    )


def _reserved(e: Any) -> ev.StockReserved:
    return ev.StockReserved(order_id=e.order_id, allocations=e.allocations, reserved_at=e.timestamp)


def _backordered(e: Any) -> ev.StockReservationFailed:
    return ev.StockReservationFailed(
        order_id=e.order_id, shortages=e.shortages, failed_at=e.timestamp
    )


def _released(e: Any) -> ev.StockReleased:
    return ev.StockReleased(
        order_id=e.order_id, allocations=e.allocations, reason=e.reason, released_at=e.timestamp
    )


_MAPPERS: dict[type, Any] = {
    Reservation.Reserved: _reserved,  # type: ignore[attr-defined]
    Reservation.Backordered: _backordered,  # type: ignore[attr-defined]
    Reservation.Released: _released,  # type: ignore[attr-defined]
    Stock.BinAssigned: _bin_assigned,  # type: ignore[attr-defined]
}


# -- inbound: integration events -> use cases ------------------------------------------


def on_order_placed(app: Inventory, e: ev.OrderPlaced, uow: UnitOfWork) -> None:
    """An order asks for stock: reserve all of it, or backorder it."""
    lines = [{"sku": line.sku, "quantity": line.quantity} for line in e.lines]
    app.reserve_order(e.order_id, lines, e.shipping_address.country, uow)


def on_order_cancelled(app: Inventory, e: ev.OrderCancelled, uow: UnitOfWork) -> None:
    """An order was cancelled: release its stock or its place in the queue."""
    app.cancel_order(e.order_id, e.reason, uow)


def on_shipped(app: Inventory, e: ev.Shipped, uow: UnitOfWork) -> None:
    """A shipment left: its units leave on hand and the reservation."""
    lines = [line.model_dump(mode="json") for line in e.lines]
    app.record_shipment(e.shipment_id, e.order_id, e.location_id, lines, uow)


def on_short_picked(app: Inventory, e: ev.ShortPicked, uow: UnitOfWork) -> None:
    """A picker came back short: release the missing units, propose a discrepancy to ops."""
    lines = [line.model_dump(mode="json") for line in e.lines]
    app.record_short_pick(e.shipment_id, e.order_id, e.location_id, e.pick_list_id, lines, uow)


def on_return_received(app: Inventory, e: ev.ReturnReceived, uow: UnitOfWork) -> None:
    """Returned units arrived: sellable ones are restocked."""
    lines = [line.model_dump(mode="json") for line in e.lines]
    app.record_return(e.return_id, e.order_id, lines, uow)


HANDLERS: dict[type[ev.IntegrationEvent], Any] = {
    ev.OrderPlaced: on_order_placed,
    ev.OrderCancelled: on_order_cancelled,
    ev.Shipped: on_shipped,
    ev.ShortPicked: on_short_picked,
    ev.ReturnReceived: on_return_received,
}
