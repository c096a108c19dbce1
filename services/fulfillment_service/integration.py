"""Pure mappings: Shipment domain events -> integration events; order events -> use cases."""

from __future__ import annotations

from typing import Any

from services.fulfillment_service.application import Shipments
from services.fulfillment_service.domain import Shipment
from shared import events as ev
from shared.runtime.application import UnitOfWork

PACKAGE_FIELDS = ("package_id", "sscc", "tracking_number", "weight_grams")


def to_integration(domain_event: Any) -> ev.IntegrationEvent | None:
    """The public event for a stored Shipment event, or None for internal-only facts."""
    mapper = _MAPPERS.get(type(domain_event))
    return mapper(domain_event) if mapper else None


def _created(e: Any) -> ev.ShipmentCreated:
    return ev.ShipmentCreated(
        shipment_id=e.originator_id,
        order_id=e.order_id,
        location_id=e.location_id,
        lines=e.lines,
        ship_to=e.ship_to,
        created_at=e.timestamp,
    )


def _picked(e: Any) -> ev.ShortPicked | None:
    """A pick that found fewer units than expected is published; a complete one stays inside."""
    short = [line for line in e.lines if line["picked"] < line["expected"]]
    if not short:
        return None
    return ev.ShortPicked(
        shipment_id=e.originator_id,
        order_id=e.order_id,
        location_id=e.location_id,
        pick_list_id=e.pick_list_id,
        lines=short,
        short_at=e.timestamp,
    )


def _shipped(e: Any) -> ev.Shipped:
    packages = getattr(e, "packages", None)
    return ev.Shipped(
        shipment_id=e.originator_id,
        order_id=e.order_id,
        location_id=e.location_id,
        carrier=e.carrier,
        tracking_number=e.tracking_number,
        lines=e.lines,
        shipped_at=e.timestamp,
        service=getattr(e, "service", None),
        packages=[{k: p[k] for k in PACKAGE_FIELDS} for p in packages] if packages else None,
    )


def _cancelled(e: Any) -> ev.ShipmentCancelled:
    return ev.ShipmentCancelled(
        shipment_id=e.originator_id,
        order_id=e.order_id,
        location_id=e.location_id,
        reason=e.reason,
        cancelled_at=e.timestamp,
    )


# Other events (pick lists, packages, bins, counters, the order index) stay inside.
_MAPPERS: dict[type, Any] = {
    Shipment.Created: _created,  # type: ignore[attr-defined]
    Shipment.Picked: _picked,  # type: ignore[attr-defined]
    Shipment.Shipped: _shipped,  # type: ignore[attr-defined]
    Shipment.Cancelled: _cancelled,  # type: ignore[attr-defined]
}


# -- inbound: integration events -> use cases ------------------------------------------


def on_order_confirmed(app: Shipments, e: ev.OrderConfirmed, uow: UnitOfWork) -> None:
    """A confirmed order gets one shipment per location its stock was allocated at."""
    if e.channel and e.external_id and e.placed_at:
        # The order's number and date, for the packing slip.
        order_ref = {
            "channel": e.channel,
            "external_id": e.external_id,
            "placed_at": e.placed_at.isoformat(),
        }
        app.describe_order(e.order_id, order_ref, uow)
    app.create_shipments(
        order_id=e.order_id,
        allocations=[a.model_dump(mode="json") for a in e.allocations],
        ship_to=e.shipping_address.model_dump(mode="json"),
        customer_name=e.customer.name,
        # Quantities only: prices never reach the warehouse's papers.
        ordered=[{"sku": line.sku, "quantity": line.quantity} for line in e.lines],
        uow=uow,
    )


def on_order_cancelled(app: Shipments, e: ev.OrderCancelled, uow: UnitOfWork) -> None:
    """A cancelled order's shipments that have not left are cancelled."""
    app.cancel_shipments(e.order_id, e.reason, uow)


def on_bin_assigned(app: Shipments, e: ev.BinAssigned, uow: UnitOfWork) -> None:
    """Inventory put a SKU in a bin: the pick path follows."""
    app.assign_bin(e.location_id, e.sku, e.bin, uow)


HANDLERS: dict[type[ev.IntegrationEvent], Any] = {
    ev.OrderConfirmed: on_order_confirmed,
    ev.OrderCancelled: on_order_cancelled,
    ev.BinAssigned: on_bin_assigned,
}
