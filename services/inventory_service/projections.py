"""Inventory projection: Location, Stock and Reservation events -> view rows."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from services.inventory_service import domain
from services.inventory_service.domain import Location, Reservation, Stock
from services.inventory_service.views import InventoryViews

PROJECTION = "inventory_views"


def project_inventory(curs: Cursor[Any], event: Any) -> None:
    """Apply one stored inventory event to the read models."""
    if isinstance(event, Location.Event):
        _project_location(curs, event)
    elif isinstance(event, Stock.Event):
        if hasattr(event, "on_hand"):  # only level changes; queue changes are not shown
            InventoryViews.upsert_level(curs, _level_row(event))
    elif isinstance(event, Reservation.Event):
        _project_reservation(curs, event)


def _project_location(curs: Cursor[Any], event: Any) -> None:
    name = type(event).__name__
    if name == "Registered":
        row = {
            "location_id": event.location_id,
            "name": event.name,
            "country": event.country,
            "priority": event.priority,
            "active": True,
            "at": event.timestamp,
        }
        InventoryViews.upsert_location(curs, row)
    elif name in ("Activated", "Deactivated"):
        active = name == "Activated"
        InventoryViews.set_location_active(curs, event.location_id, active, event.timestamp)


def _level_row(event: Any) -> dict[str, Any]:
    return {
        "sku": event.sku,
        "location_id": event.location_id,
        "on_hand": event.on_hand,
        "reserved": event.reserved,
        "available": event.available,
        "at": event.timestamp,
    }


def _project_reservation(curs: Cursor[Any], event: Any) -> None:
    name, at = type(event).__name__, event.timestamp
    if name == "Requested":
        row = {
            "order_id": event.order_id,
            "status": domain.REQUESTED,
            "lines": event.lines,
            "at": at,
        }
        InventoryViews.insert_reservation(curs, row)
        return
    fields: dict[str, Any]
    if name == "Reserved":
        fields = {"status": domain.RESERVED, "allocations": event.allocations, "shortages": []}
    elif name == "Backordered":
        fields = {"status": domain.BACKORDERED, "shortages": event.shortages}
    elif name == "Released":
        fields = {"status": domain.RELEASED, "allocations": []}
    elif name == "Cancelled":
        fields = {"status": domain.CANCELLED}
    elif name == "Consumed":
        fields = {"status": event.status, "allocations": event.held}
    else:
        return
    InventoryViews.update_reservation(curs, event.order_id, at, **fields)
