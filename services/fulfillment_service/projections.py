"""Shipment projection: Shipment events -> shipment_view rows."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from services.fulfillment_service import domain
from services.fulfillment_service.domain import Shipment
from services.fulfillment_service.views import ShipmentViews

PROJECTION = "shipment_summary"


def project_shipment(curs: Cursor[Any], event: Any) -> None:
    """Apply one stored Shipment event to the read model (other aggregates' events are skipped)."""
    if not isinstance(event, Shipment.Event):
        return
    shipment_id, at = event.originator_id, event.timestamp
    if isinstance(event, Shipment.Created):  # type: ignore[attr-defined]
        ShipmentViews.insert_shipment(curs, _created_row(event))
    elif isinstance(event, Shipment.Shipped):  # type: ignore[attr-defined]
        ShipmentViews.update_shipment(
            curs,
            shipment_id,
            at,
            status=domain.SHIPPED,
            carrier=event.carrier,
            tracking_number=event.tracking_number,
            shipped_at=at,
        )
    elif isinstance(event, Shipment.Cancelled):  # type: ignore[attr-defined]
        ShipmentViews.update_shipment(
            curs, shipment_id, at, status=domain.CANCELLED, cancelled_at=at
        )


def _created_row(event: Any) -> dict[str, Any]:
    return {
        "shipment_id": event.originator_id,
        "order_id": event.order_id,
        "location_id": event.location_id,
        "status": domain.OPEN,
        "lines": event.lines,
        "ship_to": event.ship_to,
        "at": event.timestamp,
    }
