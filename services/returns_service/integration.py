"""Pure mappings: Return domain events -> integration events; OrderShipped -> use case."""

from __future__ import annotations

from typing import Any

from services.returns_service.application import Returns
from services.returns_service.domain import Return
from shared import events as ev
from shared.runtime.application import UnitOfWork


def to_integration(domain_event: Any) -> ev.IntegrationEvent | None:
    """The public event for a stored Return event, or None for internal-only facts."""
    mapper = _MAPPERS.get(type(domain_event))
    return mapper(domain_event) if mapper else None


def _requested(e: Any) -> ev.ReturnRequested:
    return ev.ReturnRequested(
        return_id=e.originator_id,
        order_id=e.order_id,
        lines=[
            ev.ReturnLine(sku=line["sku"], quantity=line["quantity"], reason=line["reason"])
            for line in e.lines
        ],
        requested_at=e.timestamp,
    )


def _received(e: Any) -> ev.ReturnReceived:
    return ev.ReturnReceived(
        return_id=e.originator_id,
        order_id=e.order_id,
        lines=e.lines,
        received_at=e.timestamp,
    )


def _refunded(e: Any) -> ev.Refunded:
    return ev.Refunded(
        refund_id=e.refund_id,
        return_id=e.originator_id,
        order_id=e.order_id,
        amount=e.amount,
        currency=e.currency,
        lines=e.lines,
        refunded_at=e.timestamp,
    )


_MAPPERS: dict[type, Any] = {
    Return.Requested: _requested,  # type: ignore[attr-defined]
    Return.Received: _received,  # type: ignore[attr-defined]
    Return.Refunded: _refunded,  # type: ignore[attr-defined]
}


# -- inbound: integration events -> use cases ------------------------------------------


def on_order_shipped(app: Returns, e: ev.OrderShipped, uow: UnitOfWork) -> None:
    """An order shipped in full: its units become returnable (once, however often it arrives)."""
    app.record_shipped_order(
        order_id=e.order_id,
        currency=e.currency,
        lines=[line.model_dump(mode="json") for line in e.lines],
        shipments=[shipment.model_dump(mode="json") for shipment in e.shipments],
        uow=uow,
    )


HANDLERS: dict[type[ev.IntegrationEvent], Any] = {
    ev.OrderShipped: on_order_shipped,
}
