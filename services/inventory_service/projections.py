"""The inventory read models: one handler per stored event class, declared in one Projection."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from services.inventory_service.domain import (
    AGGREGATES,
    Barcode,
    Discrepancy,
    DiscrepancyStatus,
    Item,
    LevelEvent,
    Location,
    PurchaseOrder,
    PurchaseOrderStatus,
    Reservation,
    ReservationStatus,
    Stock,
    Transfer,
    TransferStatus,
    is_rest_request,
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


def _address_changed(curs: Cursor[Any], e: Location.AddressChanged) -> None:
    InventoryViews.set_location_address(
        curs, e.location_id, e.address, e.latitude, e.longitude, e.timestamp
    )


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
        shortages=getattr(e, "short", None) or getattr(e, "rest", None) or [],
        explanation=getattr(e, "explanation", None),
        promise_date=None,
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
        promise_date=None,
    )


def _sourced(curs: Cursor[Any], e: Reservation.Sourced) -> None:
    """Units asked for again (or the rest of an order held in part) are held: the row shows
    what the order holds now, and no longer the rest as short."""
    InventoryViews.add_reservation_allocations(
        curs, e.order_id, e.timestamp, e.status, e.allocations
    )
    if is_rest_request(e.request_id):
        InventoryViews.update_reservation(curs, e.order_id, e.timestamp, shortages=[])


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


def _promised(curs: Cursor[Any], e: Reservation.Promised) -> None:
    InventoryViews.update_reservation(curs, e.order_id, e.timestamp, promise_date=e.promise_date)


# -- transfers and purchase orders ---------------------------------------------------------------


def _transfer_level(
    curs: Cursor[Any], e: Stock.TransferShipped | Stock.TransferReceived | Stock.TransferCancelled
) -> None:
    """The level where units left or arrived, and what is in transit to the destination."""
    _level(curs, e)
    destination = e.location_id if isinstance(e, Stock.TransferReceived) else e.to_location
    InventoryViews.set_incoming(curs, e.sku, destination, "in_transit", e.in_transit, e.timestamp)


def _supply_expected(curs: Cursor[Any], e: Stock.SupplyExpected) -> None:
    InventoryViews.set_incoming(curs, e.sku, e.location_id, "on_order", e.on_order, e.timestamp)


def _purchase_received(curs: Cursor[Any], e: Stock.PurchaseReceived) -> None:
    _level(curs, e)
    InventoryViews.set_incoming(curs, e.sku, e.location_id, "on_order", e.on_order, e.timestamp)


def _transfer_shipped(curs: Cursor[Any], e: Transfer.Shipped) -> None:
    row = {
        "transfer_id": e.transfer_id,
        "status": TransferStatus.IN_TRANSIT,
        "from_location": e.from_location,
        "to_location": e.to_location,
        "lines": e.lines,
        "expected_at": e.expected_at,
        "at": e.timestamp,
    }
    InventoryViews.insert_transfer(curs, row)


def _transfer_received(curs: Cursor[Any], e: Transfer.Received) -> None:
    InventoryViews.update_row(
        curs,
        "transfer_view",
        "transfer_id",
        e.transfer_id,
        e.timestamp,
        status=e.status,
        received=e.received,
    )


def _transfer_cancelled(curs: Cursor[Any], e: Transfer.Cancelled) -> None:
    InventoryViews.update_row(
        curs,
        "transfer_view",
        "transfer_id",
        e.transfer_id,
        e.timestamp,
        status=TransferStatus.CANCELLED,
        cancel_reason=e.reason,
    )


def _po_placed(curs: Cursor[Any], e: PurchaseOrder.Placed) -> None:
    row = {
        "po_id": e.po_id,
        "status": PurchaseOrderStatus.OPEN,
        "location_id": e.location_id,
        "supplier": e.supplier,
        "lines": e.lines,
        "expected_at": e.expected_at,
        "at": e.timestamp,
    }
    InventoryViews.insert_purchase_order(curs, row)


def _po_rescheduled(curs: Cursor[Any], e: PurchaseOrder.Rescheduled) -> None:
    InventoryViews.update_row(
        curs, "purchase_order_view", "po_id", e.po_id, e.timestamp, expected_at=e.expected_at
    )


def _po_received(curs: Cursor[Any], e: PurchaseOrder.Received) -> None:
    InventoryViews.update_row(
        curs,
        "purchase_order_view",
        "po_id",
        e.po_id,
        e.timestamp,
        status=e.status,
        received=e.received,
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


# -- catalogue -----------------------------------------------------------------------------------


def _item(curs: Cursor[Any], e: Item.Added | Item.Changed) -> None:
    InventoryViews.upsert_item(curs, e.sku, e.details, e.originator_version, e.timestamp)


INVENTORY_VIEWS = Projection(
    name=PROJECTION,
    aggregates=AGGREGATES,
    handlers={
        Location.Registered: _registered,
        Location.Activated: _activated,
        Location.Deactivated: _deactivated,
        Location.AddressChanged: _address_changed,
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
        Stock.TransferShipped: _transfer_level,
        Stock.TransferReceived: _transfer_level,
        Stock.TransferCancelled: _transfer_level,
        Stock.SupplyExpected: _supply_expected,
        Stock.PurchaseReceived: _purchase_received,
        Transfer.Shipped: _transfer_shipped,
        Transfer.Received: _transfer_received,
        Transfer.Cancelled: _transfer_cancelled,
        PurchaseOrder.Placed: _po_placed,
        PurchaseOrder.Rescheduled: _po_rescheduled,
        PurchaseOrder.Received: _po_received,
        Reservation.Promised: _promised,
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
        Item.Added: _item,
        Item.Changed: _item,
    },
    # Queue changes, the per-order return bookkeeping and the GTIN claims (the item view shows
    # an item's GTINs) are not shown in any view.
    ignores=frozenset(
        {
            Barcode.Claimed,
            Barcode.Taken,
            Barcode.Released,
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
