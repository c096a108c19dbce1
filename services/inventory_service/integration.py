"""The inventory service's two event tables: what it consumes and what it publishes.

CONSUMES maps each integration event to the use case that handles it; PUBLISHES gives every
event class of every inventory aggregate its publishing decision: a mapper to the public
event, or INTERNAL. Both are checked when the service starts (docs/architecture.md,
"Events in and out").
"""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.domain import Aggregate

from services.inventory_service.application import Inventory
from services.inventory_service.application.history import MOVEMENT_REASONS
from services.inventory_service.domain import (
    Barcode,
    Discrepancy,
    Explanation,
    Item,
    LevelEvent,
    Line,
    Location,
    PickedLine,
    PurchaseOrder,
    Reservation,
    ReturnedLine,
    Stock,
    Transfer,
)
from shared import events as ev
from shared.runtime.application import UnitOfWork
from shared.runtime.registry import INTERNAL, Handler, Internal, Mapper

# -- inbound: integration events -> use cases --------------------------------------------------


def on_order_placed(app: Inventory, e: ev.OrderPlaced, uow: UnitOfWork) -> None:
    """An order asks for stock: reserve all of it, or backorder it."""
    lines: list[Line] = [{"sku": line.sku, "quantity": line.quantity} for line in e.lines]
    ship_to = e.shipping_address
    app.reservations.reserve(
        e.order_id,
        lines,
        ship_to.country,
        uow,
        channel=e.channel,
        postal_code=ship_to.postal_code,
    )


def on_order_lines_changed(app: Inventory, e: ev.OrderLinesChanged, uow: UnitOfWork) -> None:
    """An order's lines were edited: it gives back what it held and asks for the new lines."""
    lines: list[Line] = [{"sku": line.sku, "quantity": line.quantity} for line in e.lines]
    app.reservations.change_lines(e.order_id, lines, e.revision, uow)


def on_order_units_requested(app: Inventory, e: ev.OrderUnitsRequested, uow: UnitOfWork) -> None:
    """Units a picker did not find are asked for again: held elsewhere, or none."""
    lines: list[Line] = [{"sku": line.sku, "quantity": line.quantity} for line in e.lines]
    app.reservations.source_again(e.order_id, e.request_id, lines, e.country, uow)


def on_order_cancelled(app: Inventory, e: ev.OrderCancelled, uow: UnitOfWork) -> None:
    """An order was cancelled: release its stock or its place in the queue."""
    app.reservations.cancel(e.order_id, e.reason, uow)


def on_shipped(app: Inventory, e: ev.Shipped, uow: UnitOfWork) -> None:
    """A shipment left: its units leave on hand and the reservation."""
    lines: list[Line] = [{"sku": line.sku, "quantity": line.quantity} for line in e.lines]
    app.reservations.record_shipment(e.shipment_id, e.order_id, e.location_id, lines, uow)


def on_short_picked(app: Inventory, e: ev.ShortPicked, uow: UnitOfWork) -> None:
    """A picker came back short: release the missing units, propose a discrepancy to ops."""
    lines: list[PickedLine] = [
        {"sku": line.sku, "bin": line.bin, "expected": line.expected, "picked": line.picked}
        for line in e.lines
    ]
    app.discrepancies.record_short_pick(
        e.shipment_id, e.order_id, e.location_id, e.pick_list_id, lines, uow
    )


def on_return_received(app: Inventory, e: ev.ReturnReceived, uow: UnitOfWork) -> None:
    """Returned units arrived: sellable ones are restocked, damaged ones quarantined."""
    lines: list[ReturnedLine] = [
        {
            "sku": line.sku,
            "quantity": line.quantity,
            "condition": line.condition,
            "location_id": line.location_id,
        }
        for line in e.lines
    ]
    # A return may arrive in several receipts, each its own ReturnReceived of the same return:
    # its time (the same on every redelivery) tells one receipt from the next.
    receipt = e.received_at.isoformat()
    app.reservations.record_return(e.return_id, e.order_id, lines, uow, receipt=receipt)


CONSUMES: dict[type[ev.IntegrationEvent], Handler] = {
    # Not OrderShipToChanged: the ship-to's country routes a reservation once, when the order is
    # placed; a later change of ship-to does not re-route it (docs/architecture.md, "Adding a
    # use case"). Nor the picking events: stock follows picks through ShortPicked and Shipped.
    ev.OrderPlaced: on_order_placed,
    ev.OrderLinesChanged: on_order_lines_changed,
    ev.OrderUnitsRequested: on_order_units_requested,
    ev.OrderCancelled: on_order_cancelled,
    ev.Shipped: on_shipped,
    ev.ShortPicked: on_short_picked,
    ev.ReturnReceived: on_return_received,
}

# -- outbound: stored domain events -> integration events --------------------------------------


def _level_changed(reason: str) -> Callable[[LevelEvent], ev.StockLevelChanged]:
    """The mapper of one kind of level change: the level after it, and why it changed."""

    def level_changed(e: LevelEvent) -> ev.StockLevelChanged:
        return ev.StockLevelChanged(
            sku=e.sku,
            location_id=e.location_id,
            on_hand=e.on_hand,
            reserved=e.reserved,
            available=e.available,
            reason=reason,
            changed_at=e.timestamp,
            bin=e.bin,
            quarantined=getattr(e, "quarantined", None),
        )

    return level_changed


def _bin_assigned(e: Stock.BinAssigned) -> ev.BinAssigned:
    return ev.BinAssigned(
        sku=e.sku,
        location_id=e.location_id,
        bin=e.bin,
        previous_bin=e.previous_bin,
        assigned_at=e.timestamp,
    )


def _channels_told(e: Stock.ChannelsTold) -> ev.ChannelAvailabilityChanged:
    return ev.ChannelAvailabilityChanged(
        sku=e.sku,
        stock_version=e.originator_version,
        channels=[
            ev.ChannelStock(
                channel=channel,
                available=level["available"],
                locations=[
                    ev.LocationStock(location_id=loc, available=units)
                    for loc, units in sorted(level["locations"].items())
                ],
            )
            for channel, level in sorted(e.channels.items())
        ],
        changed_at=e.timestamp,
    )


def _reserved(e: Reservation.Reserved) -> ev.StockReserved:
    return ev.StockReserved(
        order_id=e.order_id,
        allocations=e.allocations,
        reserved_at=e.timestamp,
        revision=e.revision,
        routing=_routing(getattr(e, "explanation", None)),
        short=getattr(e, "short", None),
        rest=getattr(e, "rest", None),
        rest_request_id=getattr(e, "rest_request_id", None),
    )


def _address_changed(e: Location.AddressChanged) -> ev.LocationAddressChanged:
    """The location's address is its ship-from: fulfillment prints it on labels."""
    address = e.address
    return ev.LocationAddressChanged(
        location_id=e.location_id,
        address=ev.Address(
            name=address["name"],
            line1=address["line1"],
            line2=address["line2"],
            city=address["city"],
            postal_code=address["postal_code"],
            country=address["country"],
            state=address["region"],
        ),
        latitude=e.latitude,
        longitude=e.longitude,
        changed_at=e.timestamp,
    )


def _backordered(e: Reservation.Backordered) -> ev.StockReservationFailed:
    return ev.StockReservationFailed(
        order_id=e.order_id, shortages=e.shortages, failed_at=e.timestamp, revision=e.revision
    )


def _sourced(e: Reservation.Sourced) -> ev.StockReserved:
    return ev.StockReserved(
        order_id=e.order_id,
        allocations=e.allocations,
        reserved_at=e.timestamp,
        request_id=e.request_id,
        routing=_routing(getattr(e, "explanation", None)),
    )


def _routing(explanation: Explanation | None) -> ev.RoutingExplanation | None:
    """The public form of a routing explanation (absent on events before routing rules)."""
    return None if explanation is None else ev.RoutingExplanation.model_validate(explanation)


def _sourcing_failed(e: Reservation.SourcingFailed) -> ev.StockReservationFailed:
    return ev.StockReservationFailed(
        order_id=e.order_id,
        shortages=e.shortages,
        failed_at=e.timestamp,
        request_id=e.request_id,
    )


def _lines_changed(e: Reservation.LinesChanged) -> ev.StockReleased | None:
    """What an edited order held is given back (nothing: it held nothing yet)."""
    if not e.released:
        return None
    return ev.StockReleased(
        order_id=e.order_id,
        allocations=e.released,
        reason="order lines edited",
        released_at=e.timestamp,
    )


def _promised(e: Reservation.Promised) -> ev.BackorderPromised:
    return ev.BackorderPromised(
        order_id=e.order_id,
        promise_date=e.promise_date,
        promised_at=e.timestamp,
        revision=e.revision,
    )


def _released(e: Reservation.Released) -> ev.StockReleased:
    return ev.StockReleased(
        order_id=e.order_id, allocations=e.allocations, reason=e.reason, released_at=e.timestamp
    )


def _item_changed(e: Item.Added | Item.Changed) -> ev.ItemChanged:
    """The item's details as they are now (a consumer needs no earlier event)."""
    details = e.details
    return ev.ItemChanged(
        sku=e.sku,
        name=details["name"],
        variant=details["variant"],
        gtins=details["gtins"],
        weight_grams=details["weight_grams"],
        dimensions_mm=ev.ItemDimensions(**details["dimensions_mm"])
        if details["dimensions_mm"]
        else None,
        hs_code=details["hs_code"],
        country_of_origin=details["country_of_origin"],
        created=isinstance(e, Item.Added),
        changed_at=e.timestamp,
    )


PUBLISHES: dict[type[Aggregate.Event], Mapper | Internal] = {
    # Locations and discrepancies are inventory's own business, but for where a location is.
    Location.Registered: INTERNAL,
    Location.Activated: INTERNAL,
    Location.Deactivated: INTERNAL,
    Location.AddressChanged: _address_changed,
    # A SKU's stock: every level change is public, and so is where the SKU lives.
    Stock.Created: INTERNAL,
    Stock.Received: _level_changed(MOVEMENT_REASONS[Stock.Received]),
    Stock.Adjusted: _level_changed(MOVEMENT_REASONS[Stock.Adjusted]),
    Stock.Reserved: _level_changed(MOVEMENT_REASONS[Stock.Reserved]),
    Stock.Released: _level_changed(MOVEMENT_REASONS[Stock.Released]),
    Stock.Shipped: _level_changed(MOVEMENT_REASONS[Stock.Shipped]),
    Stock.Returned: _level_changed(MOVEMENT_REASONS[Stock.Returned]),
    Stock.ShortPicked: _level_changed(MOVEMENT_REASONS[Stock.ShortPicked]),
    Stock.Quarantined: _level_changed(MOVEMENT_REASONS[Stock.Quarantined]),
    Stock.QuarantineReleased: _level_changed(MOVEMENT_REASONS[Stock.QuarantineReleased]),
    Stock.TransferShipped: _level_changed(MOVEMENT_REASONS[Stock.TransferShipped]),
    Stock.TransferReceived: _level_changed(MOVEMENT_REASONS[Stock.TransferReceived]),
    Stock.TransferCancelled: _level_changed(MOVEMENT_REASONS[Stock.TransferCancelled]),
    Stock.PurchaseReceived: _level_changed(MOVEMENT_REASONS[Stock.PurchaseReceived]),
    Stock.SupplyExpected: INTERNAL,  # on order: BackorderPromised says what it means to orders
    Stock.BinAssigned: _bin_assigned,
    Stock.Backordered: INTERNAL,  # the queue: Reservation.Backordered says it publicly
    Stock.Dequeued: INTERNAL,
    Stock.SafetyStockSet: INTERNAL,  # channels learn the ATP it changes, not the setting
    Stock.ChannelsTold: _channels_told,  # what each channel may sell (stock sync)
    # An order's reservation: reserved, failed, released; the rest is bookkeeping.
    Reservation.Requested: INTERNAL,
    Reservation.Reserved: _reserved,
    Reservation.Backordered: _backordered,
    Reservation.Released: _released,
    Reservation.LinesChanged: _lines_changed,
    Reservation.Sourced: _sourced,
    Reservation.SourcingFailed: _sourcing_failed,
    Reservation.Cancelled: INTERNAL,  # nothing was held, so nothing is released
    Reservation.Consumed: INTERNAL,  # shipments publish their units as level changes
    Reservation.ShortReleased: INTERNAL,  # the short pick publishes its level change
    Reservation.Restocked: INTERNAL,  # the return publishes its level change
    Reservation.Promised: _promised,
    # Transfers and purchase orders publish what they do to stock as level changes.
    Transfer.Shipped: INTERNAL,
    Transfer.Received: INTERNAL,
    Transfer.Cancelled: INTERNAL,
    PurchaseOrder.Placed: INTERNAL,
    PurchaseOrder.Rescheduled: INTERNAL,
    PurchaseOrder.Received: INTERNAL,
    Discrepancy.Proposed: INTERNAL,
    Discrepancy.Resolved: INTERNAL,  # its adjustment publishes the level change
    # The catalogue: every real change is public (an unchanged put records nothing).
    Item.Added: _item_changed,
    Item.Changed: _item_changed,
    # A GTIN's owner is told by ItemChanged (its gtins); the claim only keeps them unique.
    Barcode.Claimed: INTERNAL,
    Barcode.Taken: INTERNAL,
    Barcode.Released: INTERNAL,
}
