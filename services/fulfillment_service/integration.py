"""The fulfillment service's events in and out, one table per direction.

CONSUMES: integration event -> use case. PUBLISHES: every stored domain event -> its public
integration event, or INTERNAL. Bootstrap hands both to ServiceEvents, which checks them when
the service starts (docs/architecture.md, Events in and out).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import cast
from uuid import UUID

from services.fulfillment_service.application import Shipments
from services.fulfillment_service.domain import (
    Address,
    Allocation,
    BinAssignment,
    CarrierBooking,
    CarrierParcel,
    CatalogueItem,
    ChannelLabel,
    ItemLine,
    LocationAddress,
    OrderRef,
    OrderShipments,
    PickList,
    SerialCounter,
    Shipment,
    ShippedPackage,
)
from shared import events as ev
from shared.events.models import TrackingStatus
from shared.payments import PaymentState
from shared.runtime.application import UnitOfWork
from shared.runtime.registry import INTERNAL, DomainEvent, Handler, Internal, Mapper

# -- inbound: integration events -> use cases ------------------------------------------


def on_order_confirmed(app: Shipments, e: ev.OrderConfirmed, uow: UnitOfWork) -> None:
    """A confirmed order gets one shipment per location its stock was allocated at."""
    if e.channel and e.external_id and e.placed_at:
        # The order's number and date (and the customer's note), for the packing slip.
        order_ref = OrderRef(
            channel=e.channel, external_id=e.external_id, placed_at=e.placed_at.isoformat()
        )
        if e.channel_order_number:
            order_ref["channel_order_number"] = e.channel_order_number
        if e.note:
            order_ref["note"] = e.note
        app.orders.describe_order(e.order_id, order_ref, uow)
    if e.part is not None:  # units sourced again: shipments on top of the order's
        app.orders.create_part_shipments(
            order_id=e.order_id,
            part=e.part,
            allocations=[
                Allocation(sku=a.sku, location_id=a.location_id, quantity=a.quantity)
                for a in e.allocations
            ],
            ship_to=_ship_to(e.shipping_address),
            customer_name=e.customer.name,
            ordered=[ItemLine(sku=line.sku, quantity=line.quantity) for line in e.lines],
            uow=uow,
        )
        return
    app.orders.create_shipments(
        order_id=e.order_id,
        allocations=[
            Allocation(sku=a.sku, location_id=a.location_id, quantity=a.quantity)
            for a in e.allocations
        ],
        ship_to=_ship_to(e.shipping_address),
        customer_name=e.customer.name,
        # Quantities only: prices never reach the warehouse's papers.
        ordered=[ItemLine(sku=line.sku, quantity=line.quantity) for line in e.lines],
        uow=uow,
    )


def on_order_placed(app: Shipments, e: ev.OrderPlaced, uow: UnitOfWork) -> None:
    """A cash-on-delivery order's amount is remembered for the carrier that will collect it;
    an order paid otherwise needs nothing here (README, "Carriers": cash on delivery)."""
    if e.payment_state != PaymentState.CASH_ON_DELIVERY:
        return
    owed = e.totals.paid if e.totals is not None else sum(map(_line_paid, e.lines), Decimal(0))
    app.orders.owe_on_delivery(e.order_id, owed, e.currency, uow)


def _line_paid(line: ev.OrderLine) -> Decimal:
    """What the buyer pays for a line (as the order service counts it: `paid`, else the price)."""
    return line.paid if line.paid is not None else line.unit_price * line.quantity


def on_order_ship_to_changed(app: Shipments, e: ev.OrderShipToChanged, uow: UnitOfWork) -> None:
    """The order's new ship-to: its shipments not yet being picked take it, the others refuse."""
    app.orders.change_ship_to(e.order_id, _ship_to(e.shipping_address), uow)


def _ship_to(to: ev.Address) -> Address:
    """The warehouse's copy of a ship-to: what labels and slips print. Company, phone and state
    are kept where the order has them (only then, so an address told again compares equal)."""
    address = Address(
        name=to.name,
        line1=to.line1,
        line2=to.line2,
        city=to.city,
        postal_code=to.postal_code,
        country=to.country,
    )
    if to.company is not None:
        address["company"] = to.company
    if to.phone is not None:
        address["phone"] = to.phone
    if to.state is not None:
        address["state"] = to.state
    if to.state_code is not None:
        address["state_code"] = to.state_code
    return address


def on_order_lines_changed(app: Shipments, e: ev.OrderLinesChanged, uow: UnitOfWork) -> None:
    """The order's lines were edited: its open shipments make way for those of the new lines,
    and what a cash-on-delivery order owes follows the units cancelled and added."""
    app.orders.replace_shipments(e.order_id, e.revision, uow)
    less = sum((c.paid for c in e.cancelled), Decimal(0))
    more = sum(map(_line_paid, e.added), Decimal(0))
    if less or more:
        app.orders.reprice_on_delivery(e.order_id, less, more, uow)


def on_order_cancelled(app: Shipments, e: ev.OrderCancelled, uow: UnitOfWork) -> None:
    """A cancelled order's shipments that have not left are cancelled."""
    app.orders.cancel_shipments(e.order_id, e.reason, uow)


def on_channel_shipping_arranged(
    app: Shipments, e: ev.ChannelShippingArranged, uow: UnitOfWork
) -> None:
    """The order's channel arranged a shipment with its own logistics (Shopee): its tracking
    number and airway bill become the shipment's, printed by the label endpoints."""
    label = ChannelLabel(
        carrier=e.carrier,
        tracking_number=e.tracking_number,
        document_type=e.document_type,
        media_type=e.document_media_type,
        document_base64=e.document_base64,
    )
    app.packing.attach_channel_label(e.shipment_id, label, uow)


def on_bin_assigned(app: Shipments, e: ev.BinAssigned, uow: UnitOfWork) -> None:
    """Inventory put a SKU in a bin: the pick path follows."""
    app.picking.assign_bin(e.location_id, e.sku, e.bin, uow)


def on_item_changed(app: Shipments, e: ev.ItemChanged, uow: UnitOfWork) -> None:
    """Inventory's catalogue changed an item: its name, barcodes and weight follow here."""
    app.catalogue.describe_item(e.sku, e.name, e.variant, list(e.gtins), e.weight_grams, uow)


def on_location_address_changed(
    app: Shipments, e: ev.LocationAddressChanged, uow: UnitOfWork
) -> None:
    """Inventory said where a location is: its labels print it as ship-from."""
    address: Address = {
        "name": e.address.name,
        "line1": e.address.line1,
        "line2": e.address.line2,
        "city": e.address.city,
        "postal_code": e.address.postal_code,
        "country": e.address.country,
        "state": e.address.state,
    }
    app.picking.record_location_address(e.location_id, address, uow)


CONSUMES: dict[type[ev.IntegrationEvent], Handler] = {
    ev.OrderPlaced: on_order_placed,
    ev.OrderConfirmed: on_order_confirmed,
    ev.OrderShipToChanged: on_order_ship_to_changed,
    ev.OrderLinesChanged: on_order_lines_changed,
    ev.OrderCancelled: on_order_cancelled,
    ev.ChannelShippingArranged: on_channel_shipping_arranged,
    ev.BinAssigned: on_bin_assigned,
    ev.ItemChanged: on_item_changed,
    ev.LocationAddressChanged: on_location_address_changed,
}


# -- outbound: stored domain events -> integration events --------------------------------


def _created(e: Shipment.Created) -> ev.ShipmentCreated:
    return ev.ShipmentCreated(
        shipment_id=e.originator_id,
        order_id=e.order_id,
        location_id=e.location_id,
        lines=e.lines,
        ship_to=e.ship_to,
        created_at=e.timestamp,
    )


def _picking_started(e: Shipment.PickingStarted) -> ev.PickingStarted | None:
    """Orders learns the ship-to is fixed. Events stored before PickingStarted was public lack
    the order and publish nothing: a change for such an order is refused by the shipment."""
    if e.order_id is None or e.location_id is None:
        return None
    return ev.PickingStarted(
        order_id=e.order_id,
        shipment_id=e.originator_id,
        pick_list_id=UUID(e.pick_list_id),
        location_id=e.location_id,
        started_at=e.timestamp,
    )


def _picking_released(e: Shipment.PickingReleased) -> ev.PickingReleased | None:
    """Orders learns the ship-to may change again (nothing for events stored before)."""
    if e.order_id is None:
        return None
    return ev.PickingReleased(
        order_id=e.order_id, shipment_id=e.originator_id, released_at=e.timestamp
    )


def _ship_to_refused(e: Shipment.ShipToRefused) -> ev.ShipToChangeRefused:
    return ev.ShipToChangeRefused(
        order_id=e.order_id, shipment_id=e.originator_id, reason=e.reason, refused_at=e.timestamp
    )


def _edit_refused(e: Shipment.EditRefused) -> ev.OrderEditRefused:
    return ev.OrderEditRefused(
        order_id=e.order_id,
        shipment_id=e.originator_id,
        revision=e.revision,
        reason=e.reason,
        refused_at=e.timestamp,
    )


def _picked(e: Shipment.Picked) -> ev.ShortPicked | None:
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


def _shipped(e: Shipment.Shipped) -> ev.Shipped:
    return ev.Shipped(
        shipment_id=e.originator_id,
        order_id=e.order_id,
        location_id=e.location_id,
        carrier=e.carrier,
        tracking_number=e.tracking_number,
        lines=e.lines,
        shipped_at=e.timestamp,
        service=e.service,
        packages=[_package_ref(p) for p in e.packages] if e.packages else None,
        tracking_shared=e.tracking_shared,
        tracking_url=e.tracking_url,
    )


def _tracked(e: CarrierBooking.Tracked) -> ev.ShipmentTracked:
    return ev.ShipmentTracked(
        shipment_id=e.shipment_id,
        order_id=e.order_id,
        carrier=e.carrier,
        tracking_number=e.tracking_number,
        tracking_url=e.tracking_url,
        status=cast(TrackingStatus, e.status),  # one of TRACKING_STATUSES: track() checks
        happened_at=datetime.fromisoformat(e.happened_at),
        description=e.description,
    )


def _package_ref(package: ShippedPackage) -> ev.PackageRef:
    """A shipped package as published: the charge stays inside."""
    return ev.PackageRef(
        package_id=UUID(package["package_id"]),
        sscc=package["sscc"],
        tracking_number=package["tracking_number"],
        weight_grams=package["weight_grams"],
    )


def _cancelled(e: Shipment.Cancelled) -> ev.ShipmentCancelled:
    return ev.ShipmentCancelled(
        shipment_id=e.originator_id,
        order_id=e.order_id,
        location_id=e.location_id,
        reason=e.reason,
        cancelled_at=e.timestamp,
    )


PUBLISHES: dict[DomainEvent, Mapper | Internal] = {
    Shipment.Created: _created,
    # The order's ship-to may change until picking starts: orders follows both.
    Shipment.PickingStarted: _picking_started,
    Shipment.PickingReleased: _picking_released,
    # Orders asked for the new ship-to; only a refusal is news to it.
    Shipment.ShipToChanged: INTERNAL,
    Shipment.ShipToRefused: _ship_to_refused,
    Shipment.EditRefused: _edit_refused,  # likewise for an edit of the order's lines
    # A complete pick maps to None (nothing published); shared's Mapper type has no `| None`.
    Shipment.Picked: _picked,
    Shipment.PackageAdded: INTERNAL,
    Shipment.PackageRemoved: INTERNAL,
    Shipment.Shipped: _shipped,
    Shipment.ChannelLabelAttached: INTERNAL,  # the channel published it already
    Shipment.Cancelled: _cancelled,
    # Pick lists, bins, the order index and serial counters are the warehouse's own business.
    PickList.Created: INTERNAL,
    PickList.LinesConfirmed: INTERNAL,
    PickList.Completed: INTERNAL,
    PickList.ShipmentDropped: INTERNAL,
    PickList.Cancelled: INTERNAL,
    BinAssignment.Assigned: INTERNAL,
    BinAssignment.Moved: INTERNAL,
    CatalogueItem.Described: INTERNAL,  # inventory's catalogue publishes items, not us
    CatalogueItem.Redescribed: INTERNAL,
    LocationAddress.Known: INTERNAL,  # inventory's fact, kept for the labels
    LocationAddress.Changed: INTERNAL,
    OrderShipments.Registered: INTERNAL,
    OrderShipments.Described: INTERNAL,
    OrderShipments.Confirmed: INTERNAL,
    OrderShipments.Cancelled: INTERNAL,
    OrderShipments.Reopened: INTERNAL,
    OrderShipments.CashOnDeliveryOwed: INTERNAL,  # the order's money, kept for its carrier
    OrderShipments.CashOnDeliveryAssigned: INTERNAL,  # its shipments' cancellations are public
    OrderShipments.PartAdded: INTERNAL,  # its shipments' creations are public
    SerialCounter.Started: INTERNAL,
    SerialCounter.Issued: INTERNAL,
    # Labels bought are the warehouse's; what the carrier tells of the parcel is news.
    CarrierBooking.Bought: INTERNAL,
    CarrierBooking.Tracked: _tracked,
    CarrierParcel.Registered: INTERNAL,
}
