"""The Shipment lifecycle and the per-order index, without any infrastructure."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from eventsourcing.utils import get_topic, resolve_topic
from hypothesis import given
from hypothesis import strategies as st
from stdnum import ean

from services.fulfillment_service.domain import (
    AGGREGATES,
    OrderShipments,
    PackageConflictError,
    PackingMismatchError,
    Shipment,
    ShipmentAlreadyShippedError,
    ShipmentNotPackableError,
    ShipmentNotShippableError,
    ShipmentStatus,
    check_digit,
    is_valid_sscc,
    order_shipments_id_for,
    plan_shipments,
    shipment_id_for,
)
from shared.runtime.registry import event_classes
from tests import factories

SHIP_TO = factories.address(line2=None)


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
    assert shipment.status == ShipmentStatus.OPEN
    assert shipment.ship_to == SHIP_TO
    assert shipment.customer_name == "Ada Lovelace"
    assert (shipment.carrier, shipment.tracking_number, shipment.shipped_at) == (None, None, None)


def test_shipping_records_carrier_tracking_and_when_it_left() -> None:
    shipment = new_shipment()
    assert shipment.ship("UPS", "1Z999") is True
    assert (shipment.status, shipment.carrier, shipment.tracking_number) == (
        ShipmentStatus.SHIPPED,
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
    assert shipment.status == ShipmentStatus.CANCELLED


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
    assert shipment.status == ShipmentStatus.SHIPPED
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


# -- picking, packing and shipping with packages -------------------------------------------

PICK_LIST = uuid.uuid4()
DIMENSIONS = {"length": 300, "width": 200, "height": 100}


def picked_shipment(picked: dict[str, int]) -> Shipment:
    """A shipment whose pick list found these units (SKU-1 x2 and SKU-2 x1 were expected)."""
    shipment = new_shipment()
    assert shipment.start_picking(PICK_LIST, 1, None)
    expected = {"SKU-1": 2, "SKU-2": 1}
    shipment.record_pick(
        PICK_LIST,
        [
            {"sku": sku, "bin": None, "expected": n, "picked": picked.get(sku, 0)}
            for sku, n in expected.items()
        ],
    )
    return shipment


def sscc_counter() -> Callable[[], str]:
    """Hands out made-up SSCCs, one per call."""
    serials = iter(range(1, 100))
    return lambda: f"{next(serials):018d}"


def test_a_shipment_on_a_pick_list_is_picking_and_cannot_go_on_another() -> None:
    shipment = new_shipment()
    assert shipment.start_picking(PICK_LIST, 3, "DHL") is True
    assert (shipment.status, shipment.slot, shipment.planned_carrier) == (
        ShipmentStatus.PICKING,
        3,
        "DHL",
    )
    assert shipment.start_picking(uuid.uuid4(), 1, None) is False
    with pytest.raises(ShipmentNotShippableError):
        shipment.ship("UPS", "1Z999")


def test_a_released_shipment_is_open_again() -> None:
    shipment = new_shipment()
    shipment.start_picking(PICK_LIST, 1, None)
    assert shipment.release_picking(uuid.uuid4()) is False
    assert shipment.release_picking(PICK_LIST) is True
    assert (shipment.status, shipment.pick_list_id) == (ShipmentStatus.OPEN, None)


def test_a_short_pick_continues_with_what_was_found() -> None:
    shipment = picked_shipment({"SKU-1": 1, "SKU-2": 1})
    assert shipment.status == ShipmentStatus.PICKED
    assert shipment.picked_units() == {"SKU-1": 1, "SKU-2": 1}
    picked = shipment.pending_events[-1]
    assert (picked.order_id, picked.location_id, picked.pick_list_id) == (
        shipment.order_id,
        "WH-1",
        str(PICK_LIST),
    )


def test_a_shipment_with_nothing_picked_is_short_and_can_neither_be_packed_nor_shipped() -> None:
    shipment = picked_shipment({})
    assert shipment.status == ShipmentStatus.SHORT
    with pytest.raises(ShipmentNotPackableError):
        shipment.add_package(uuid.uuid4(), [{"sku": "SKU-1", "quantity": 1}], 100, DIMENSIONS, str)
    with pytest.raises(ShipmentNotShippableError):
        shipment.ship("UPS", "1Z999")
    assert shipment.cancel("nothing in stock") is True


def test_an_open_shipment_is_not_packed_before_it_is_picked() -> None:
    shipment = new_shipment()
    with pytest.raises(ShipmentNotPackableError, match="not picked yet"):
        shipment.add_package(uuid.uuid4(), [{"sku": "SKU-1", "quantity": 1}], 100, DIMENSIONS, str)


@pytest.mark.parametrize(
    "items",
    [
        [{"sku": "SKU-3", "quantity": 1}],
        [{"sku": "SKU-1", "quantity": 2}],
        [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-1", "quantity": 1}],
    ],
)
def test_packing_anything_not_picked_or_beyond_it_is_refused(items: list[dict]) -> None:
    shipment = picked_shipment({"SKU-1": 1, "SKU-2": 1})
    before = len(shipment.pending_events)
    with pytest.raises(PackingMismatchError):
        shipment.add_package(uuid.uuid4(), items, 500, DIMENSIONS, sscc_counter())
    assert len(shipment.pending_events) == before
    assert shipment.packages == []


def test_the_shipment_is_packed_when_every_picked_unit_is_in_a_package() -> None:
    shipment = picked_shipment({"SKU-1": 2, "SKU-2": 1})
    issue = sscc_counter()
    first = shipment.add_package(
        uuid.uuid4(), [{"sku": "SKU-1", "quantity": 2}], 900, DIMENSIONS, issue
    )
    assert (shipment.status, first["sscc"]) == (ShipmentStatus.PICKED, "000000000000000001")
    assert shipment.unpacked_units() == {"SKU-2": 1}

    shipment.add_package(uuid.uuid4(), [{"sku": "SKU-2", "quantity": 1}], 300, DIMENSIONS, issue)

    assert shipment.status == ShipmentStatus.PACKED
    assert shipment.packed_units() == {"SKU-1": 2, "SKU-2": 1}
    with pytest.raises(ShipmentNotPackableError, match="fully packed"):
        shipment.add_package(uuid.uuid4(), [{"sku": "SKU-2", "quantity": 1}], 1, DIMENSIONS, issue)


def test_the_same_package_again_is_no_new_package_other_contents_are_a_conflict() -> None:
    shipment = picked_shipment({"SKU-1": 2, "SKU-2": 1})
    package_id, items = uuid.uuid4(), [{"sku": "SKU-1", "quantity": 1}]
    first = shipment.add_package(package_id, items, 400, DIMENSIONS, sscc_counter())
    before = len(shipment.pending_events)

    assert shipment.add_package(package_id, items, 400, DIMENSIONS, sscc_counter()) == first
    with pytest.raises(PackageConflictError):
        shipment.add_package(package_id, items, 401, DIMENSIONS, sscc_counter())
    assert len(shipment.pending_events) == before


def test_unpacking_a_package_puts_its_units_back_to_pack() -> None:
    shipment = picked_shipment({"SKU-1": 2})
    package = shipment.add_package(
        uuid.uuid4(), [{"sku": "SKU-1", "quantity": 2}], 900, DIMENSIONS, sscc_counter()
    )
    assert shipment.status == ShipmentStatus.PACKED

    assert shipment.remove_package(uuid.UUID(package["package_id"])) is True

    assert (shipment.status, shipment.packages) == (ShipmentStatus.PICKED, [])
    assert shipment.unpacked_units() == {"SKU-1": 2}


def test_a_picked_shipment_without_packages_ships_what_was_picked() -> None:
    shipment = picked_shipment({"SKU-1": 1})
    shipment.ship("UPS", "1Z999")
    assert shipment.pending_events[-1].lines == [{"sku": "SKU-1", "quantity": 1}]


def test_with_packages_a_shipment_ships_only_once_packed_with_a_tracking_number_each() -> None:
    shipment = picked_shipment({"SKU-1": 2, "SKU-2": 1})
    issue = sscc_counter()
    first = shipment.add_package(
        uuid.uuid4(), [{"sku": "SKU-1", "quantity": 2}], 900, DIMENSIONS, issue
    )
    with pytest.raises(ShipmentNotShippableError, match="once packed"):
        shipment.ship_packages(
            "DHL", None, [{"package_id": first["package_id"], "tracking_number": "1"}]
        )
    with pytest.raises(ShipmentNotShippableError, match="tracking number per package"):
        shipment.ship("DHL", "JD1")
    second = shipment.add_package(
        uuid.uuid4(), [{"sku": "SKU-2", "quantity": 1}], 300, DIMENSIONS, issue
    )
    assignments = [
        {"package_id": first["package_id"], "tracking_number": "JD1", "charge": None},
        {"package_id": second["package_id"], "tracking_number": "JD2", "charge": None},
    ]

    assert shipment.ship_packages("DHL", "express", assignments) is True

    shipped = shipment.pending_events[-1]
    assert (shipped.carrier, shipped.service, shipped.tracking_number) == ("DHL", "express", "JD1")
    assert [(p["sscc"], p["tracking_number"]) for p in shipped.packages] == [
        (first["sscc"], "JD1"),
        (second["sscc"], "JD2"),
    ]
    assert shipped.lines == [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}]
    assert shipment.ship_packages("DHL", "express", assignments) is False
    with pytest.raises(ShipmentAlreadyShippedError):
        shipment.ship_packages("DHL", "express", list(reversed(assignments)))


@pytest.mark.parametrize("stage", ["picking", "picked", "packed"])
def test_a_shipment_is_cancelled_from_any_stage_before_it_leaves(stage: str) -> None:
    shipment = new_shipment()
    shipment.start_picking(PICK_LIST, 1, None)
    if stage != "picking":
        shipment.record_pick(PICK_LIST, [{"sku": "SKU-1", "bin": None, "expected": 2, "picked": 2}])
    if stage == "packed":
        shipment.add_package(uuid.uuid4(), [{"sku": "SKU-1", "quantity": 2}], 9, DIMENSIONS, str)
    assert shipment.status == stage
    assert shipment.cancel("customer changed their mind") is True
    assert shipment.status == ShipmentStatus.CANCELLED


# -- the typed core: stored topics and GS1 arithmetic ---------------------------------------

STORED_TOPICS = {
    "shipment:Shipment": [
        "Created",
        "PickingStarted",
        "PickingReleased",
        "Picked",
        "PackageAdded",
        "PackageRemoved",
        "Shipped",
        "Cancelled",
        "ShipToChanged",
        "ShipToRefused",
        "EditRefused",
        "ChannelLabelAttached",
    ],
    "pick_list:PickList": [
        "Created",
        "LinesConfirmed",
        "Completed",
        "ShipmentDropped",
        "Cancelled",
    ],
    "bins:BinAssignment": ["Assigned", "Moved"],
    "order_shipments:OrderShipments": [
        "Registered",
        "Described",
        "Confirmed",
        "Cancelled",
        "Reopened",
        "PartAdded",
        "CashOnDeliveryOwed",
        "CashOnDeliveryAssigned",
    ],
    "serials:SerialCounter": ["Started", "Issued"],
    "catalogue:CatalogueItem": ["Described", "Redescribed"],
    "sites:LocationAddress": ["Known", "Changed"],
    "carrier_booking:CarrierBooking": ["Bought", "Tracked"],
    "carrier_booking:CarrierParcel": ["Registered"],
}


def test_every_event_class_keeps_the_topic_its_stored_events_name() -> None:
    expected = {
        f"services.fulfillment_service.domain.{aggregate}.{name}"
        for aggregate, names in STORED_TOPICS.items()
        for name in names
    }
    recorded = {get_topic(e) for aggregate in AGGREGATES for e in event_classes(aggregate)}
    assert recorded == expected
    assert all(get_topic(resolve_topic(topic)) == topic for topic in expected)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_sscc_check_digit_is_gs1_mod_10_as_python_stdnum_computes_it(body: str) -> None:
    assert check_digit(body) == ean.calc_check_digit(body)
    assert is_valid_sscc(body + ean.calc_check_digit(body))
