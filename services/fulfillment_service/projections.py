"""Fulfillment projection: stored events -> shipment, pick list, package and bin rows."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from services.fulfillment_service import domain
from services.fulfillment_service.domain import BinAssignment, PickList, Shipment
from services.fulfillment_service.views import ShipmentViews

PROJECTION = "shipment_summary"
V = ShipmentViews


def project_shipment(curs: Cursor[Any], event: Any) -> None:
    """Apply one stored event to the read models (the order index and counters are skipped)."""
    handler = _HANDLERS.get(type(event))
    if handler is not None:
        handler(curs, event, event.originator_id, event.timestamp)


def _created(curs: Cursor[Any], e: Any, shipment_id: Any, at: Any) -> None:
    order = getattr(e, "order", None) or {}
    V.insert_shipment(
        curs,
        {
            "shipment_id": shipment_id,
            "order_id": e.order_id,
            "location_id": e.location_id,
            "status": domain.OPEN,
            "lines": e.lines,
            "ship_to": e.ship_to,
            "order_number": order.get("external_id"),
            "at": at,
        },
    )


def _picking_started(curs: Cursor[Any], e: Any, shipment_id: Any, at: Any) -> None:
    V.update_shipment(
        curs,
        shipment_id,
        at,
        status=domain.PICKING,
        pick_list_id=e.pick_list_id,
        slot=e.slot,
        planned_carrier=e.carrier,
    )


def _picking_released(curs: Cursor[Any], e: Any, shipment_id: Any, at: Any) -> None:
    V.update_shipment(curs, shipment_id, at, status=domain.OPEN, pick_list_id=None, slot=None)


def _picked(curs: Cursor[Any], e: Any, shipment_id: Any, at: Any) -> None:
    V.update_shipment(curs, shipment_id, at, status=e.status, picked=e.lines, picked_at=at)


def _package_added(curs: Cursor[Any], e: Any, shipment_id: Any, at: Any) -> None:
    V.add_package(curs, shipment_id, e.package, at)
    V.update_shipment(curs, shipment_id, at, status=e.status)


def _package_removed(curs: Cursor[Any], e: Any, shipment_id: Any, at: Any) -> None:
    V.remove_package(curs, shipment_id, e.package_id)
    V.update_shipment(curs, shipment_id, at, status=domain.PICKED)


def _shipped(curs: Cursor[Any], e: Any, shipment_id: Any, at: Any) -> None:
    service = getattr(e, "service", None)
    if getattr(e, "packages", None):
        V.ship_packages(curs, shipment_id, e.carrier, service, e.packages)
    V.update_shipment(
        curs,
        shipment_id,
        at,
        status=domain.SHIPPED,
        carrier=e.carrier,
        service=service,
        tracking_number=e.tracking_number,
        shipped_at=at,
    )


def _cancelled(curs: Cursor[Any], e: Any, shipment_id: Any, at: Any) -> None:
    V.update_shipment(curs, shipment_id, at, status=domain.CANCELLED, cancelled_at=at)


def _pick_list_created(curs: Cursor[Any], e: Any, pick_list_id: Any, at: Any) -> None:
    V.insert_pick_list(
        curs,
        {
            "pick_list_id": pick_list_id,
            "location_id": e.location_id,
            "status": domain.OPEN,
            "carrier": e.carrier,
            "shipment_count": len(e.slots),
            "line_count": len(e.lines),
            "unit_count": sum(line["quantity"] for line in e.lines),
            "at": at,
        },
    )


def _pick_list_dropped(curs: Cursor[Any], e: Any, pick_list_id: Any, at: Any) -> None:
    V.drop_from_pick_list(curs, pick_list_id, at)


def _pick_list_completed(curs: Cursor[Any], e: Any, pick_list_id: Any, at: Any) -> None:
    V.update_pick_list(curs, pick_list_id, at, status=domain.COMPLETED, completed_at=at)


def _pick_list_cancelled(curs: Cursor[Any], e: Any, pick_list_id: Any, at: Any) -> None:
    V.update_pick_list(curs, pick_list_id, at, status=domain.CANCELLED, cancelled_at=at)


def _bin_assigned(curs: Cursor[Any], e: Any, _: Any, at: Any) -> None:
    V.set_bin(curs, e.location_id, e.sku, e.bin, at)


_HANDLERS: dict[type, Any] = {
    Shipment.Created: _created,  # type: ignore[attr-defined]
    Shipment.PickingStarted: _picking_started,  # type: ignore[attr-defined]
    Shipment.PickingReleased: _picking_released,  # type: ignore[attr-defined]
    Shipment.Picked: _picked,  # type: ignore[attr-defined]
    Shipment.PackageAdded: _package_added,  # type: ignore[attr-defined]
    Shipment.PackageRemoved: _package_removed,  # type: ignore[attr-defined]
    Shipment.Shipped: _shipped,  # type: ignore[attr-defined]
    Shipment.Cancelled: _cancelled,  # type: ignore[attr-defined]
    PickList.Created: _pick_list_created,  # type: ignore[attr-defined]
    PickList.ShipmentDropped: _pick_list_dropped,  # type: ignore[attr-defined]
    PickList.Completed: _pick_list_completed,  # type: ignore[attr-defined]
    PickList.Cancelled: _pick_list_cancelled,  # type: ignore[attr-defined]
    BinAssignment.Assigned: _bin_assigned,  # type: ignore[attr-defined]
    BinAssignment.Moved: _bin_assigned,  # type: ignore[attr-defined]
}
