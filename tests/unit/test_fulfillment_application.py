"""Fulfillment use cases and event handlers on the in-memory event store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from stdnum import luhn

from services.fulfillment_service import bootstrap, integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.bootstrap import rate_tables
from services.fulfillment_service.domain import (
    CarrierError,
    NothingToPickError,
    PickListStatus,
    ShipmentNotFoundError,
    ShipmentNotShippableError,
    ShipmentStatus,
    SsccFormat,
    is_valid_sscc,
    shipment_id_for,
)
from services.fulfillment_service.settings import Settings
from shared import events as ev
from shared.events import now_utc
from tests import factories
from tests.kit import apply

CUSTOMER = factories.customer(name="Ada Lovelace")
ADDRESS = factories.address()
TWO_LOCATIONS = [
    {"sku": "SKU-1", "location_id": "WH-1", "quantity": 2},
    {"sku": "SKU-2", "location_id": "WH-2", "quantity": 1},
    {"sku": "SKU-3", "location_id": "WH-1", "quantity": 4},
]
EVENTS = bootstrap.events()


@pytest.fixture
def app() -> Iterator[Shipments]:
    """The application on the in-memory store, with the default settings' carriers."""
    application = bootstrap.configure(Shipments(), Settings())
    yield application
    application.close()


def confirmed(order_id: uuid.UUID, allocations: list[dict] = TWO_LOCATIONS) -> ev.OrderConfirmed:
    """An OrderConfirmed as the order service publishes it (without the channel's number)."""
    skus = {a["sku"] for a in allocations}
    return factories.order_confirmed(
        order_id=order_id,
        customer=CUSTOMER,
        shipping_address=ADDRESS,
        lines=[{"sku": s, "quantity": 1, "unit_price": "9.90"} for s in sorted(skus)],
        allocations=allocations,
        channel=None,
        external_id=None,
        placed_at=None,
    )


def cancelled(
    order_id: uuid.UUID, reason: str = "customer changed their mind"
) -> ev.OrderCancelled:
    """An OrderCancelled as the order service publishes it."""
    return factories.order_cancelled(order_id, reason=reason)


def handle(app: Shipments, event: ev.IntegrationEvent) -> None:
    """Apply one inbound event the way the consumer does: its handler in a committed unit."""
    apply(app, integration.CONSUMES, event)


def published(app: Shipments, after: int = 0) -> list[ev.IntegrationEvent]:
    """The integration events the relay would publish for everything stored after a position."""
    notifications = app.recorder.select_notifications(after + 1, 10_000)
    mapped = (EVENTS.to_integration(app.mapper.to_domain_event(n)) for n in notifications)
    return [e for e in mapped if e is not None]


def last_position(app: Shipments) -> int:
    """The id of the last stored event."""
    return app.recorder.max_notification_id() or 0


def test_a_confirmed_order_gets_one_shipment_per_allocated_location(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))

    created = published(app)
    assert all(isinstance(e, ev.ShipmentCreated) for e in created)
    by_location = {e.location_id: e for e in created}
    assert set(by_location) == {"WH-1", "WH-2"}
    wh1 = by_location["WH-1"]
    assert wh1.shipment_id == shipment_id_for(order_id, "WH-1")
    assert wh1.order_id == order_id
    assert [(line.sku, line.quantity) for line in wh1.lines] == [("SKU-1", 2), ("SKU-3", 4)]
    assert wh1.ship_to.model_dump(exclude_none=True) == ADDRESS
    shipment = app.get_shipment(wh1.shipment_id)
    assert (shipment.status, shipment.customer_name) == (ShipmentStatus.OPEN, "Ada Lovelace")


def test_a_redelivered_confirmation_creates_nothing_new(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    position = last_position(app)

    handle(app, confirmed(order_id))
    handle(app, confirmed(order_id, [{"sku": "SKU-9", "location_id": "WH-9", "quantity": 1}]))

    assert last_position(app) == position


def test_cancelling_an_order_cancels_only_its_unshipped_shipments(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    app.packing.ship(shipment_id_for(order_id, "WH-1"), "UPS", "1Z999")
    position = last_position(app)

    handle(app, cancelled(order_id, "fraud review failed"))

    events = published(app, position)
    assert [type(e) for e in events] == [ev.ShipmentCancelled]
    assert (events[0].shipment_id, events[0].reason) == (
        shipment_id_for(order_id, "WH-2"),
        "fraud review failed",
    )
    assert app.get_shipment(shipment_id_for(order_id, "WH-1")).status == ShipmentStatus.SHIPPED
    assert app.get_shipment(shipment_id_for(order_id, "WH-2")).status == ShipmentStatus.CANCELLED


def test_a_redelivered_cancellation_records_nothing(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    handle(app, cancelled(order_id))
    position = last_position(app)

    handle(app, cancelled(order_id))

    assert last_position(app) == position


def test_a_confirmation_after_the_cancellation_creates_no_shipment(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, cancelled(order_id))
    handle(app, confirmed(order_id))

    assert published(app) == []
    index = app.get_order_shipments(order_id)
    assert index is not None and index.cancelled and index.shipment_ids == []
    with pytest.raises(ShipmentNotFoundError):
        app.get_shipment(shipment_id_for(order_id, "WH-1"))


def test_shipping_publishes_shipped_with_lines_location_and_tracking(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    shipment_id = shipment_id_for(order_id, "WH-2")
    position = last_position(app)

    shipment = app.packing.ship(shipment_id, "DHL", "JD0001")

    [shipped] = published(app, position)
    assert isinstance(shipped, ev.Shipped)
    assert (shipped.shipment_id, shipped.order_id, shipped.location_id) == (
        shipment_id,
        order_id,
        "WH-2",
    )
    assert (shipped.carrier, shipped.tracking_number) == ("DHL", "JD0001")
    assert [(line.sku, line.quantity) for line in shipped.lines] == [("SKU-2", 1)]
    assert shipped.shipped_at == shipment.shipped_at


def test_shipping_an_unknown_shipment_is_refused(app: Shipments) -> None:
    with pytest.raises(ShipmentNotFoundError):
        app.packing.ship(uuid.uuid4(), "UPS", "1Z999")


def test_an_order_index_id_is_not_a_shipment(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    index = app.get_order_shipments(order_id)
    assert index is not None
    position = last_position(app)

    with pytest.raises(ShipmentNotFoundError):
        app.packing.ship(index.id, "UPS", "1Z999")
    assert last_position(app) == position


def test_the_order_index_is_not_published(app: Shipments) -> None:
    order_id = uuid.uuid4()
    handle(app, confirmed(order_id))
    handle(app, cancelled(order_id))

    stored = app.recorder.select_notifications(1, 100)
    assert len(stored) > len(published(app))  # the index's own events stay inside
    assert {type(e) for e in published(app)} == {ev.ShipmentCreated, ev.ShipmentCancelled}


# -- the warehouse: bins, pick lists, packages, carriers --------------------------------------

DIMENSIONS = {"length": 300, "width": 200, "height": 100}


def numbered(event: ev.OrderConfirmed, number: str) -> ev.OrderConfirmed:
    """The OrderConfirmed with the order's channel number and date, as orders publishes it."""
    return event.model_copy(
        update={"channel": "web", "external_id": number, "placed_at": now_utc()}
    )


def bin_assigned(sku: str, bin: str, location_id: str = "WH-1") -> ev.BinAssigned:
    """A BinAssigned as inventory publishes it."""
    return ev.BinAssigned(sku=sku, location_id=location_id, bin=bin, assigned_at=now_utc())


def open_order(app: Shipments, allocations: list[dict], number: str = "W-1") -> uuid.UUID:
    """An order placed and confirmed with these allocations; returns its id."""
    order_id = uuid.uuid4()
    handle(app, numbered(confirmed(order_id, allocations), number))
    return order_id


def at_wh1(*lines: tuple[str, int]) -> list[dict]:
    """Allocations at WH-1."""
    return [{"sku": sku, "location_id": "WH-1", "quantity": q} for sku, q in lines]


def make_pick_list(app: Shipments, order_ids: list[uuid.UUID], bins: dict | None = None, **kw):
    """A pick list at WH-1 over these orders' shipments (oldest first)."""
    candidates = [shipment_id_for(o, "WH-1") for o in order_ids]
    pick_list, _ = app.picking.create_pick_list(
        "WH-1",
        candidates,
        lambda skus: {s: b for s, b in (bins or {}).items() if s in skus},
        20,
        **kw,
    )
    return pick_list


def test_shipments_carry_the_order_number_and_ordered_quantities_but_no_prices(
    app: Shipments,
) -> None:
    order_id = open_order(app, at_wh1(("SKU-1", 2)), "W-1001")

    shipment = app.get_shipment(shipment_id_for(order_id, "WH-1"))

    assert shipment.order_number == "W-1001"
    assert shipment.order["placed_at"]
    assert shipment.order["lines"] == [{"sku": "SKU-1", "quantity": 1}]
    assert "9.90" not in repr(shipment.order)


def test_a_redelivered_bin_assignment_records_nothing(app: Shipments) -> None:
    handle(app, bin_assigned("SKU-1", "A-1-1"))
    position = last_position(app)
    handle(app, bin_assigned("SKU-1", "A-1-1"))
    assert last_position(app) == position
    handle(app, bin_assigned("SKU-1", "B-2-2"))
    assert last_position(app) == position + 1


def test_a_pick_list_takes_open_shipments_oldest_first_up_to_the_limit(app: Shipments) -> None:
    orders = [open_order(app, at_wh1(("SKU-1", 1))) for _ in range(3)]

    candidates = [shipment_id_for(o, "WH-1") for o in orders]
    first, created = app.picking.create_pick_list("WH-1", candidates, lambda skus: {}, 2)
    second, _ = app.picking.create_pick_list("WH-1", candidates, lambda skus: {}, 2)

    assert created
    assert first.shipment_ids == [str(c) for c in candidates[:2]]
    assert second.shipment_ids == [str(candidates[2])]
    with pytest.raises(NothingToPickError):
        app.picking.create_pick_list("WH-1", candidates, lambda skus: {}, 2)


def test_the_same_request_key_gives_the_same_pick_list(app: Shipments) -> None:
    orders = [open_order(app, at_wh1(("SKU-1", 1))) for _ in range(2)]
    candidates = [shipment_id_for(o, "WH-1") for o in orders]
    no_bins = lambda skus: {}  # noqa: E731
    first, created = app.picking.create_pick_list(
        "WH-1", candidates[:1], no_bins, 5, request_key="k1"
    )
    position = last_position(app)

    again, created_again = app.picking.create_pick_list(
        "WH-1", candidates, no_bins, 5, request_key="k1"
    )

    assert (created, created_again, again.id) == (True, False, first.id)
    assert last_position(app) == position


def test_a_complete_pick_publishes_nothing_a_short_one_publishes_short_picked_per_shipment(
    app: Shipments,
) -> None:
    handle(app, bin_assigned("SKU-1", "A-2-1"))
    full = open_order(app, at_wh1(("SKU-1", 2), ("SKU-3", 1)))
    short = open_order(app, at_wh1(("SKU-1", 2)))
    pick_list = make_pick_list(app, [full, short], {"SKU-1": "A-2-1"})
    position = last_position(app)

    app.picking.confirm_picks(
        pick_list.id, [{"sku": "SKU-1", "picked": 3}, {"sku": "SKU-3", "picked": 1}]
    )

    [short_picked] = published(app, position)
    assert isinstance(short_picked, ev.ShortPicked)
    assert (short_picked.shipment_id, short_picked.order_id, short_picked.pick_list_id) == (
        shipment_id_for(short, "WH-1"),
        short,
        pick_list.id,
    )
    assert [line.model_dump() for line in short_picked.lines] == [
        {"sku": "SKU-1", "bin": "A-2-1", "expected": 2, "picked": 1}
    ]
    assert app.get_shipment(shipment_id_for(full, "WH-1")).status == ShipmentStatus.PICKED
    assert app.get_shipment(shipment_id_for(short, "WH-1")).picked_units() == {"SKU-1": 1}
    assert app.get_pick_list(pick_list.id).status == PickListStatus.COMPLETED


def test_a_shipment_with_nothing_found_is_short_and_does_not_ship(app: Shipments) -> None:
    order_id = open_order(app, at_wh1(("SKU-1", 2)))
    pick_list = make_pick_list(app, [order_id])

    app.picking.confirm_picks(pick_list.id, [{"sku": "SKU-1", "picked": 0}])

    shipment_id = shipment_id_for(order_id, "WH-1")
    assert app.get_shipment(shipment_id).status == ShipmentStatus.SHORT
    with pytest.raises(ShipmentNotShippableError):
        app.packing.ship(shipment_id, "UPS", "1Z999")


def test_an_order_cancelled_while_picking_leaves_the_list_and_the_rest_completes(
    app: Shipments,
) -> None:
    stays = open_order(app, at_wh1(("SKU-1", 1)))
    goes = open_order(app, at_wh1(("SKU-1", 1), ("SKU-2", 1)))
    pick_list = make_pick_list(app, [stays, goes])
    app.picking.confirm_picks(pick_list.id, [{"sku": "SKU-1", "picked": 1}])

    handle(app, cancelled(goes))

    assert app.get_shipment(shipment_id_for(goes, "WH-1")).status == ShipmentStatus.CANCELLED
    assert app.get_shipment(shipment_id_for(stays, "WH-1")).status == ShipmentStatus.PICKED
    assert app.get_pick_list(pick_list.id).status == PickListStatus.COMPLETED


def test_cancelling_a_pick_list_opens_its_shipments_for_the_next_one(app: Shipments) -> None:
    order_id = open_order(app, at_wh1(("SKU-1", 1)))
    pick_list = make_pick_list(app, [order_id])

    app.picking.cancel_pick_list(pick_list.id, "cart broke down")

    assert app.get_shipment(shipment_id_for(order_id, "WH-1")).status == ShipmentStatus.OPEN
    assert make_pick_list(app, [order_id]).shipment_ids == [str(shipment_id_for(order_id, "WH-1"))]


def picked_order(app: Shipments, *lines: tuple[str, int]) -> uuid.UUID:
    """A shipment at WH-1 picked in full; returns its id."""
    order_id = open_order(app, at_wh1(*lines))
    pick_list = make_pick_list(app, [order_id])
    app.picking.confirm_picks(pick_list.id, [{"sku": s, "picked": q} for s, q in lines])
    return shipment_id_for(order_id, "WH-1")


def test_packages_get_distinct_sscc_from_the_merchants_prefix_with_valid_check_digits(
    app: Shipments,
) -> None:
    app.configure(SsccFormat("4012345", 3), app.carriers, app.ship_from)
    shipment_id = picked_order(app, ("SKU-1", 3))

    ssccs = [
        app.packing.add_package(shipment_id, [{"sku": "SKU-1", "quantity": 1}], 500, DIMENSIONS)[1][
            "sscc"
        ]
        for _ in range(3)
    ]

    assert len(set(ssccs)) == 3
    assert all(s.startswith("34012345") and is_valid_sscc(s) for s in ssccs)
    assert app.get_shipment(shipment_id).status == ShipmentStatus.PACKED


def test_a_rate_table_carrier_issues_checked_tracking_numbers_and_shipped_lists_packages(
    app: Shipments,
) -> None:
    shipment_id = picked_order(app, ("SKU-1", 2))
    app.packing.add_package(shipment_id, [{"sku": "SKU-1", "quantity": 1}], 500, DIMENSIONS)
    app.packing.add_package(shipment_id, [{"sku": "SKU-1", "quantity": 1}], 2500, DIMENSIONS)
    position = last_position(app)

    shipment = app.packing.ship(shipment_id, "oms-parcel", service="express")

    [shipped] = published(app, position)
    assert isinstance(shipped, ev.Shipped)
    assert (shipped.carrier, shipped.service) == ("oms-parcel", "express")
    numbers = [p.tracking_number for p in shipped.packages]
    assert len(set(numbers)) == 2
    assert all(n.startswith("OP") and luhn.is_valid(n[2:]) for n in numbers)
    assert shipped.tracking_number == numbers[0]
    assert [p.sscc for p in shipped.packages] == [p["sscc"] for p in shipment.packages]
    assert [p.weight_grams for p in shipped.packages] == [500, 2500]
    assert (
        app.packing.ship(shipment_id, "oms-parcel", service="express").tracking_number == numbers[0]
    )
    assert last_position(app) == position + 3  # counter started and issued, shipment shipped


def test_a_manual_carrier_needs_one_tracking_number_per_package(app: Shipments) -> None:
    shipment_id = picked_order(app, ("SKU-1", 2))
    for _ in range(2):
        app.packing.add_package(shipment_id, [{"sku": "SKU-1", "quantity": 1}], 500, DIMENSIONS)
    position = last_position(app)

    with pytest.raises(CarrierError, match="one tracking number per package"):
        app.packing.ship(shipment_id, "DHL", tracking_numbers=["JD1"])
    assert last_position(app) == position

    shipment = app.packing.ship(shipment_id, "DHL", tracking_numbers=["JD1", "JD2"])
    assert [p["tracking_number"] for p in shipment.packages] == ["JD1", "JD2"]


def test_an_unknown_service_or_a_too_heavy_package_is_refused_by_the_rate_table(
    app: Shipments,
) -> None:
    shipment_id = picked_order(app, ("SKU-1", 1))
    app.packing.add_package(shipment_id, [{"sku": "SKU-1", "quantity": 1}], 40_000, DIMENSIONS)
    position = last_position(app)

    with pytest.raises(CarrierError, match="no service"):
        app.packing.ship(shipment_id, "oms-parcel", service="overnight")
    with pytest.raises(CarrierError, match="limit"):
        app.packing.ship(shipment_id, "oms-parcel")
    assert last_position(app) == position


def test_the_event_tables_decide_every_stored_event_and_name_only_known_ones() -> None:
    EVENTS.check()  # raises RegistryError naming each gap
    assert set(EVENTS.consumes) == {
        ev.OrderPlaced,  # a cash-on-delivery order's amount, for its carrier
        ev.OrderConfirmed,
        ev.OrderShipToChanged,
        ev.OrderLinesChanged,
        ev.OrderCancelled,
        ev.BinAssigned,
        ev.ItemChanged,
        ev.LocationAddressChanged,
        ev.ChannelShippingArranged,
    }


def test_a_rate_table_named_real_in_the_settings_shares_its_tracking_numbers():
    default = Settings(database_url="postgresql://x/y")
    declared = Settings(database_url="postgresql://x/y", real_tracking_rate_tables=["oms-parcel"])

    assert [t.get("tracking_numbers_are_real", False) for t in rate_tables(default)] == [False]
    assert [t["tracking_numbers_are_real"] for t in rate_tables(declared)] == [True]
