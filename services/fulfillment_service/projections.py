"""Fulfillment projection: stored events -> shipment, pick list, package and bin rows.

One handler per event class; an event of a covered aggregate with neither a handler nor an
`ignores` entry stops the service at start-up (docs/architecture.md, Events in and out).
"""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from services.fulfillment_service.domain import (
    BinAssignment,
    PickList,
    PickListStatus,
    Shipment,
    ShipmentStatus,
)
from services.fulfillment_service.views import ShipmentViews as V
from shared.runtime.registry import Projection

# -- shipments and their packages ---------------------------------------------------------


def _shipment_created(curs: Cursor[Any], e: Shipment.Created) -> None:
    V.insert_shipment(
        curs,
        {
            "shipment_id": e.originator_id,
            "order_id": e.order_id,
            "location_id": e.location_id,
            "status": ShipmentStatus.OPEN,
            "lines": e.lines,
            "ship_to": e.ship_to,
            "order_number": (e.order or {}).get("channel_order_number")
            or (e.order or {}).get("external_id"),
            "at": e.timestamp,
        },
    )


def _picking_started(curs: Cursor[Any], e: Shipment.PickingStarted) -> None:
    V.update_shipment(
        curs,
        e.originator_id,
        e.timestamp,
        status=ShipmentStatus.PICKING,
        pick_list_id=e.pick_list_id,
        slot=e.slot,
        planned_carrier=e.carrier,
    )


def _picking_released(curs: Cursor[Any], e: Shipment.PickingReleased) -> None:
    V.update_shipment(
        curs, e.originator_id, e.timestamp, status=ShipmentStatus.OPEN, pick_list_id=None, slot=None
    )


def _ship_to_changed(curs: Cursor[Any], e: Shipment.ShipToChanged) -> None:
    V.update_shipment(curs, e.originator_id, e.timestamp, ship_to=e.ship_to)


def _picked(curs: Cursor[Any], e: Shipment.Picked) -> None:
    V.update_shipment(
        curs, e.originator_id, e.timestamp, status=e.status, picked=e.lines, picked_at=e.timestamp
    )


def _package_added(curs: Cursor[Any], e: Shipment.PackageAdded) -> None:
    V.add_package(curs, e.originator_id, e.package, e.timestamp)
    V.update_shipment(curs, e.originator_id, e.timestamp, status=e.status)


def _package_removed(curs: Cursor[Any], e: Shipment.PackageRemoved) -> None:
    V.remove_package(curs, e.originator_id, e.package_id)
    V.update_shipment(curs, e.originator_id, e.timestamp, status=ShipmentStatus.PICKED)


def _shipped(curs: Cursor[Any], e: Shipment.Shipped) -> None:
    if e.packages:
        V.ship_packages(curs, e.originator_id, e.carrier, e.service, e.packages)
    V.update_shipment(
        curs,
        e.originator_id,
        e.timestamp,
        status=ShipmentStatus.SHIPPED,
        carrier=e.carrier,
        service=e.service,
        tracking_number=e.tracking_number,
        shipped_at=e.timestamp,
    )


def _shipment_cancelled(curs: Cursor[Any], e: Shipment.Cancelled) -> None:
    V.update_shipment(
        curs,
        e.originator_id,
        e.timestamp,
        status=ShipmentStatus.CANCELLED,
        cancelled_at=e.timestamp,
    )


# -- pick lists ---------------------------------------------------------------------------


def _pick_list_created(curs: Cursor[Any], e: PickList.Created) -> None:
    V.insert_pick_list(
        curs,
        {
            "pick_list_id": e.originator_id,
            "location_id": e.location_id,
            "status": PickListStatus.OPEN,
            "carrier": e.carrier,
            "shipment_count": len(e.slots),
            "line_count": len(e.lines),
            "unit_count": sum(line["quantity"] for line in e.lines),
            "at": e.timestamp,
        },
    )


def _shipment_dropped(curs: Cursor[Any], e: PickList.ShipmentDropped) -> None:
    V.drop_from_pick_list(curs, e.originator_id, e.timestamp)


def _pick_list_completed(curs: Cursor[Any], e: PickList.Completed) -> None:
    V.update_pick_list(
        curs,
        e.originator_id,
        e.timestamp,
        status=PickListStatus.COMPLETED,
        completed_at=e.timestamp,
    )


def _pick_list_cancelled(curs: Cursor[Any], e: PickList.Cancelled) -> None:
    V.update_pick_list(
        curs,
        e.originator_id,
        e.timestamp,
        status=PickListStatus.CANCELLED,
        cancelled_at=e.timestamp,
    )


# -- bins ---------------------------------------------------------------------------------


def _bin_assigned(curs: Cursor[Any], e: BinAssignment.Assigned | BinAssignment.Moved) -> None:
    V.set_bin(curs, e.location_id, e.sku, e.bin, e.timestamp)


PROJECTION = Projection(
    name="shipment_summary",
    aggregates=(Shipment, PickList, BinAssignment),
    handlers={
        Shipment.Created: _shipment_created,
        Shipment.PickingStarted: _picking_started,
        Shipment.PickingReleased: _picking_released,
        Shipment.ShipToChanged: _ship_to_changed,
        Shipment.Picked: _picked,
        Shipment.PackageAdded: _package_added,
        Shipment.PackageRemoved: _package_removed,
        Shipment.Shipped: _shipped,
        Shipment.Cancelled: _shipment_cancelled,
        PickList.Created: _pick_list_created,
        PickList.ShipmentDropped: _shipment_dropped,
        PickList.Completed: _pick_list_completed,
        PickList.Cancelled: _pick_list_cancelled,
        BinAssignment.Assigned: _bin_assigned,
        BinAssignment.Moved: _bin_assigned,
    },
    # Confirmed lines show on the pick list itself (read from its events), not in the view.
    # A refused ship-to or edit leaves the row as it was; it shows on the order's timeline.
    ignores=frozenset(
        {
            PickList.LinesConfirmed,
            Shipment.ShipToRefused,
            Shipment.EditRefused,
            Shipment.ChannelLabelAttached,  # printed from the aggregate, not from the view
        }
    ),
)
