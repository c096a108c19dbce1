"""The inventory read models: one handler per stored event class, declared in one Projection."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from services.inventory_service.domain import (
    AGGREGATES,
    Discrepancy,
    DiscrepancyStatus,
    LevelEvent,
    Location,
    Reservation,
    ReservationStatus,
    Stock,
    pick_path_key,
)
from services.inventory_service.views import InventoryViews
from shared.runtime.registry import Projection

PROJECTION = "inventory_views"

# -- locations ---------------------------------------------------------------------------------


def _registered(curs: Cursor[Any], e: Location.Registered) -> None:
    row = {
        "location_id": e.location_id,
        "name": e.name,
        "country": e.country,
        "priority": e.priority,
        "active": True,
        "at": e.timestamp,
    }
    InventoryViews.upsert_location(curs, row)


def _activated(curs: Cursor[Any], e: Location.Activated) -> None:
    InventoryViews.set_location_active(curs, e.location_id, True, e.timestamp)


def _deactivated(curs: Cursor[Any], e: Location.Deactivated) -> None:
    InventoryViews.set_location_active(curs, e.location_id, False, e.timestamp)


# -- stock levels and bins -----------------------------------------------------------------------


def _level(curs: Cursor[Any], e: LevelEvent) -> None:
    row = {
        "sku": e.sku,
        "location_id": e.location_id,
        "on_hand": e.on_hand,
        "reserved": e.reserved,
        "available": e.available,
        "missing": e.missing,
        "bin": e.bin,
        "at": e.timestamp,
    }
    InventoryViews.upsert_level(curs, row)


def _quarantine(curs: Cursor[Any], e: Stock.Quarantined | Stock.QuarantineReleased) -> None:
    _level(curs, e)
    InventoryViews.set_quarantined(curs, e.sku, e.location_id, e.quarantined)


def _bin_assigned(curs: Cursor[Any], e: Stock.BinAssigned) -> None:
    row = {
        "location_id": e.location_id,
        "sku": e.sku,
        "bin": e.bin,
        "path_key": pick_path_key(e.bin),
        "at": e.timestamp,
    }
    InventoryViews.upsert_bin(curs, row)


# -- reservations --------------------------------------------------------------------------------


def _requested(curs: Cursor[Any], e: Reservation.Requested) -> None:
    row = {
        "order_id": e.order_id,
        "status": ReservationStatus.REQUESTED,
        "lines": e.lines,
        "at": e.timestamp,
    }
    InventoryViews.insert_reservation(curs, row)


def _reserved(curs: Cursor[Any], e: Reservation.Reserved) -> None:
    InventoryViews.update_reservation(
        curs,
        e.order_id,
        e.timestamp,
        status=ReservationStatus.RESERVED,
        allocations=e.allocations,
        shortages=[],
    )


def _backordered(curs: Cursor[Any], e: Reservation.Backordered) -> None:
    InventoryViews.update_reservation(
        curs, e.order_id, e.timestamp, status=ReservationStatus.BACKORDERED, shortages=e.shortages
    )


def _released(curs: Cursor[Any], e: Reservation.Released) -> None:
    InventoryViews.update_reservation(
        curs, e.order_id, e.timestamp, status=ReservationStatus.RELEASED, allocations=[]
    )


def _lines_changed(curs: Cursor[Any], e: Reservation.LinesChanged) -> None:
    """The order was edited: nothing held, the new lines asked for."""
    InventoryViews.update_reservation(
        curs,
        e.order_id,
        e.timestamp,
        status=ReservationStatus.REQUESTED,
        lines=e.lines,
        allocations=[],
        shortages=[],
    )


def _sourced(curs: Cursor[Any], e: Reservation.Sourced) -> None:
    """Units asked for again are held: the row shows what the order holds now."""
    InventoryViews.add_reservation_allocations(
        curs, e.order_id, e.timestamp, e.status, e.allocations
    )


def _sourcing_failed(curs: Cursor[Any], e: Reservation.SourcingFailed) -> None:
    """Units asked for again are available nowhere: the row says what was short."""
    InventoryViews.update_reservation(curs, e.order_id, e.timestamp, shortages=e.shortages)


def _cancelled(curs: Cursor[Any], e: Reservation.Cancelled) -> None:
    InventoryViews.update_reservation(
        curs, e.order_id, e.timestamp, status=ReservationStatus.CANCELLED
    )


def _held(curs: Cursor[Any], e: Reservation.Consumed | Reservation.ShortReleased) -> None:
    """A shipment or a short pick left the order holding less (the event says its new status)."""
    InventoryViews.update_reservation(
        curs, e.order_id, e.timestamp, status=e.status, allocations=e.held
    )


# -- discrepancies -------------------------------------------------------------------------------


def _proposed(curs: Cursor[Any], e: Discrepancy.Proposed) -> None:
    row = {
        "discrepancy_id": e.originator_id,
        "status": DiscrepancyStatus.PROPOSED,
        "sku": e.sku,
        "location_id": e.location_id,
        "bin": e.bin,
        "quantity": e.quantity,
        "expected": e.expected,
        "picked": e.picked,
        "order_id": e.order_id,
        "shipment_id": e.shipment_id,
        "pick_list_id": e.pick_list_id,
        "at": e.timestamp,
    }
    InventoryViews.insert_discrepancy(curs, row)


def _resolved(curs: Cursor[Any], e: Discrepancy.Resolved) -> None:
    InventoryViews.resolve_discrepancy(curs, e.originator_id, e.status, e.note, e.timestamp)


INVENTORY_VIEWS = Projection(
    name=PROJECTION,
    aggregates=AGGREGATES,
    handlers={
        Location.Registered: _registered,
        Location.Activated: _activated,
        Location.Deactivated: _deactivated,
        Stock.Received: _level,
        Stock.Adjusted: _level,
        Stock.Reserved: _level,
        Stock.Released: _level,
        Stock.Shipped: _level,
        Stock.Returned: _level,
        Stock.ShortPicked: _level,
        Stock.Quarantined: _quarantine,
        Stock.QuarantineReleased: _quarantine,
        Stock.BinAssigned: _bin_assigned,
        Reservation.Requested: _requested,
        Reservation.Reserved: _reserved,
        Reservation.Backordered: _backordered,
        Reservation.Released: _released,
        Reservation.LinesChanged: _lines_changed,
        Reservation.Sourced: _sourced,
        Reservation.SourcingFailed: _sourcing_failed,
        Reservation.Cancelled: _cancelled,
        Reservation.Consumed: _held,
        Reservation.ShortReleased: _held,
        Discrepancy.Proposed: _proposed,
        Discrepancy.Resolved: _resolved,
    },
    # Queue changes and the per-order return bookkeeping are not shown in any view.
    ignores=frozenset(
        {
            Stock.Created,
            Stock.Backordered,
            Stock.Dequeued,
            Stock.SafetyStockSet,
            Stock.ChannelsTold,  # channels read it on the topic; GET /v1/atp computes it
            Reservation.Restocked,
        }
    ),
)
"""Locations, stock levels, bins in pick-path order, reservations and discrepancies."""
