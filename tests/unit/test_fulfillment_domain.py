"""The Shipment lifecycle and the per-order index, without any infrastructure."""

from __future__ import annotations

import uuid

import pytest

from services.fulfillment_service.domain import (
    CANCELLED,
    OPEN,
    SHIPPED,
    OrderShipments,
    Shipment,
    ShipmentAlreadyShippedError,
    ShipmentNotShippableError,
    order_shipments_id_for,
    plan_shipments,
    shipment_id_for,
)

SHIP_TO = {
    "name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "line2": None,
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


def new_shipment(order_id: uuid.UUID | None = None, location_id: str = "WH-1") -> Shipment:
    """An open shipment of two lines."""
    return Shipment(
        order_id=order_id or uuid.uuid4(),
        location_id=location_id,
        lines=[{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}],
        ship_to=SHIP_TO,
        customer_name="Ada Lovelace",
    )


def test_allocations_are_grouped_by_location_with_units_summed_per_sku() -> None:
    plan = plan_shipments(
        [
            {"sku": "A", "location_id": "WH-1", "quantity": 2},
            {"sku": "B", "location_id": "WH-2", "quantity": 1},
            {"sku": "A", "location_id": "WH-1", "quantity": 3},
            {"sku": "C", "location_id": "WH-1", "quantity": 1},
        ]
    )
    assert plan == {
        "WH-1": [{"sku": "A", "quantity": 5}, {"sku": "C", "quantity": 1}],
        "WH-2": [{"sku": "B", "quantity": 1}],
    }


def test_shipment_id_is_derived_from_order_and_location() -> None:
    order_id = uuid.uuid4()
    shipment = new_shipment(order_id, "WH-1")
    assert shipment.id == shipment_id_for(order_id, "WH-1")
    assert shipment_id_for(order_id, "WH-1") != shipment_id_for(order_id, "WH-2")
    assert shipment.id != order_shipments_id_for(order_id)


def test_a_new_shipment_is_open_with_its_lines_and_ship_to() -> None:
    shipment = new_shipment()
    assert shipment.status == OPEN
    assert shipment.ship_to == SHIP_TO
    assert shipment.customer_name == "Ada Lovelace"
    assert (shipment.carrier, shipment.tracking_number, shipment.shipped_at) == (None, None, None)


def test_shipping_records_carrier_tracking_and_when_it_left() -> None:
    shipment = new_shipment()
    assert shipment.ship("UPS", "1Z999") is True
    assert (shipment.status, shipment.carrier, shipment.tracking_number) == (
        SHIPPED,
        "UPS",
        "1Z999",
    )
    shipped = shipment.pending_events[-1]
    assert shipment.shipped_at == shipped.timestamp
    # The stored event alone must be enough to publish Shipped.
    assert (shipped.order_id, shipped.location_id, shipped.lines) == (
        shipment.order_id,
        "WH-1",
        shipment.lines,
    )


def test_shipping_again_with_the_same_tracking_records_nothing() -> None:
    shipment = new_shipment()
    shipment.ship("UPS", "1Z999")
    before = len(shipment.pending_events)
    assert shipment.ship("UPS", "1Z999") is False
    assert len(shipment.pending_events) == before


@pytest.mark.parametrize(("carrier", "tracking"), [("UPS", "1Z000"), ("DHL", "1Z999")])
def test_shipping_again_with_other_carrier_or_tracking_is_refused(
    carrier: str, tracking: str
) -> None:
    shipment = new_shipment()
    shipment.ship("UPS", "1Z999")
    with pytest.raises(ShipmentAlreadyShippedError):
        shipment.ship(carrier, tracking)
    assert (shipment.carrier, shipment.tracking_number) == ("UPS", "1Z999")


def test_a_cancelled_shipment_cannot_ship() -> None:
    shipment = new_shipment()
    shipment.cancel("customer changed their mind")
    with pytest.raises(ShipmentNotShippableError):
        shipment.ship("UPS", "1Z999")
    assert shipment.status == CANCELLED


def test_cancelling_records_the_reason_once() -> None:
    shipment = new_shipment()
    assert shipment.cancel("fraud") is True
    assert shipment.cancel("fraud") is False
    cancelled = [e for e in shipment.pending_events if isinstance(e, Shipment.Cancelled)]
    assert len(cancelled) == 1
    assert (shipment.cancel_reason, shipment.cancelled_at) == ("fraud", cancelled[0].timestamp)


def test_a_shipped_shipment_stays_shipped_when_cancelled() -> None:
    shipment = new_shipment()
    shipment.ship("UPS", "1Z999")
    before = len(shipment.pending_events)
    assert shipment.cancel("too late") is False
    assert shipment.status == SHIPPED
    assert len(shipment.pending_events) == before


def test_an_order_cancelled_before_confirmation_refuses_the_confirmation() -> None:
    index = OrderShipments(order_id=uuid.uuid4())
    assert index.cancel("cancelled by operator") is True
    assert index.confirm([uuid.uuid4()]) is False
    assert (index.shipment_ids, index.awaits_confirmation) == ([], False)


def test_an_order_is_confirmed_once() -> None:
    order_id = uuid.uuid4()
    index = OrderShipments(order_id=order_id)
    first = [shipment_id_for(order_id, "WH-1")]
    assert index.id == order_shipments_id_for(order_id)
    assert index.confirm(first) is True
    assert index.confirm([shipment_id_for(order_id, "WH-2")]) is False
    assert index.shipment_ids == [str(first[0])]
