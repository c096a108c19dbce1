"""Inventory projection: Location, Stock, Reservation and Discrepancy events -> view rows."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from services.inventory_service import domain
from services.inventory_service.domain import (
    Discrepancy,
    Location,
    Reservation,
    Stock,
    pick_path_key,
)
from services.inventory_service.views import InventoryViews

PROJECTION = "inventory_views"


def project_inventory(curs: Cursor[Any], event: Any) -> None:
    """Apply one stored inventory event to the read models."""
    if isinstance(event, Location.Event):
        _project_location(curs, event)
    elif isinstance(event, Stock.Event):
        _project_stock(curs, event)
    elif isinstance(event, Reservation.Event):
        _project_reservation(curs, event)
    elif isinstance(event, Discrepancy.Event):
        _project_discrepancy(curs, event)


def _project_stock(curs: Cursor[Any], event: Any) -> None:
    if hasattr(event, "on_hand"):  # level changes; queue changes are not shown
        InventoryViews.upsert_level(curs, _level_row(event))
    elif isinstance(event, Stock.BinAssigned):  # type: ignore[attr-defined]
        row = {
            "location_id": event.location_id,
            "sku": event.sku,
            "bin": event.bin,
            "path_key": pick_path_key(event.bin),
            "at": event.timestamp,
        }
        InventoryViews.upsert_bin(curs, row)


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
        # Events stored before short picks and bins did not carry these.
        "missing": getattr(event, "missing", 0),
        "bin": getattr(event, "bin", None),
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
    elif name in ("Consumed", "ShortReleased"):
        fields = {"status": event.status, "allocations": event.held}
    else:
        return
    InventoryViews.update_reservation(curs, event.order_id, at, **fields)


def _project_discrepancy(curs: Cursor[Any], event: Any) -> None:
    if isinstance(event, Discrepancy.Proposed):  # type: ignore[attr-defined]
        row = {
            "discrepancy_id": event.originator_id,
            "status": domain.PROPOSED,
            "sku": event.sku,
            "location_id": event.location_id,
            "bin": event.bin,
            "quantity": event.quantity,
            "expected": event.expected,
            "picked": event.picked,
            "order_id": event.order_id,
            "shipment_id": event.shipment_id,
            "pick_list_id": event.pick_list_id,
            "at": event.timestamp,
        }
        InventoryViews.insert_discrepancy(curs, row)
    elif isinstance(event, Discrepancy.Resolved):  # type: ignore[attr-defined]
        InventoryViews.resolve_discrepancy(
            curs, event.originator_id, event.status, event.note, event.timestamp
        )
