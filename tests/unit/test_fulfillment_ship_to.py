"""A changed ship-to reaches the order's shipments until picking starts, on the in-memory store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from services.fulfillment_service import bootstrap, integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.domain import Shipment, ShipmentStatus, shipment_id_for
from services.fulfillment_service.settings import Settings
from shared import events as ev
from shared.events import now_utc
from tests import factories
from tests.kit import apply

EVENTS = bootstrap.events()
OLD = factories.address()
NEW = factories.address(line1="Kastanienallee 12", line2="Hinterhaus", postal_code="10435")
TWO_LOCATIONS = [
    {"sku": "SKU-1", "location_id": "WH-1", "quantity": 2},
    {"sku": "SKU-2", "location_id": "WH-2", "quantity": 1},
]


@pytest.fixture
def app() -> Iterator[Shipments]:
    """The application on the in-memory store, with the default settings' carriers."""
    application = bootstrap.configure(Shipments(), Settings())
    yield application
    application.close()


def handle(app: Shipments, *events: ev.IntegrationEvent) -> None:
    """Apply inbound events as the consumer does."""
    apply(app, integration.CONSUMES, *events)


def published(app: Shipments, after: int = 0) -> list[ev.IntegrationEvent]:
    """The integration events the relay publishes for everything stored after a position."""
    notifications = app.recorder.select_notifications(after + 1, 10_000)
    mapped = (EVENTS.to_integration(app.mapper.to_domain_event(n)) for n in notifications)
    return [e for e in mapped if e is not None]


def position(app: Shipments) -> int:
    return app.recorder.max_notification_id() or 0


def confirmed_order(app: Shipments, address: dict = OLD) -> uuid.UUID:
    """An order confirmed with stock at WH-1 and WH-2, shipping to `address`."""
    confirmed = factories.order_confirmed(
        shipping_address=address,
        lines=[
            {"sku": a["sku"], "quantity": a["quantity"], "unit_price": "5.00"}
            for a in TWO_LOCATIONS
        ],
        allocations=TWO_LOCATIONS,
    )
    handle(app, confirmed)
    return confirmed.order_id


def ship_to_changed(order_id: uuid.UUID, address: dict = NEW) -> ev.OrderShipToChanged:
    """The order service's news of a new ship-to."""
    return ev.OrderShipToChanged(order_id=order_id, shipping_address=address, changed_at=now_utc())


def pick_at_wh1(app: Shipments, order_id: uuid.UUID) -> uuid.UUID:
    """The order's WH-1 shipment goes on a pick list; returns the list's id."""
    pick_list, _ = app.picking.create_pick_list(
        "WH-1", [shipment_id_for(order_id, "WH-1")], lambda skus: {}, 10
    )
    return pick_list.id


# -- the Shipment -----------------------------------------------------------------------


def new_shipment() -> Shipment:
    return Shipment(
        order_id=uuid.uuid4(),
        location_id="WH-1",
        lines=[{"sku": "SKU-1", "quantity": 1}],
        ship_to=OLD,
        customer_name="Ann Example",
    )


def test_an_open_shipment_takes_the_new_ship_to() -> None:
    shipment = new_shipment()

    assert shipment.change_ship_to(NEW) is True

    assert shipment.ship_to == NEW
    assert isinstance(shipment.pending_events[-1], Shipment.ShipToChanged)


def test_a_shipment_being_picked_refuses_the_new_ship_to_on_record() -> None:
    shipment = new_shipment()
    pick_list_id = uuid.uuid4()
    shipment.start_picking(pick_list_id, 1, None)

    assert shipment.change_ship_to(NEW) is False

    assert shipment.ship_to == OLD
    refused = shipment.pending_events[-1]
    assert isinstance(refused, Shipment.ShipToRefused)
    assert refused.ship_to == NEW and refused.order_id == shipment.order_id
    assert str(pick_list_id) in refused.reason


def test_a_shipment_that_left_refuses_and_a_cancelled_one_records_nothing() -> None:
    shipped, cancelled = new_shipment(), new_shipment()
    shipped.ship("UPS", "1Z999")
    cancelled.cancel("order cancelled")

    assert shipped.change_ship_to(NEW) is False
    assert cancelled.change_ship_to(NEW) is False

    assert shipped.pending_events[-1].reason == "the shipment has shipped: it keeps its ship-to"
    assert isinstance(cancelled.pending_events[-1], Shipment.Cancelled)


def test_the_address_it_already_has_records_nothing_even_while_picking() -> None:
    shipment = new_shipment()
    shipment.start_picking(uuid.uuid4(), 1, None)

    assert shipment.change_ship_to(dict(OLD)) is True

    assert isinstance(shipment.pending_events[-1], Shipment.PickingStarted)


# -- the use case and the events in and out -----------------------------------------------


def test_the_orders_open_shipments_take_the_new_ship_to_and_print_it(app: Shipments) -> None:
    order_id = confirmed_order(app)
    before = position(app)

    handle(app, ship_to_changed(order_id))

    for location in ("WH-1", "WH-2"):
        shipment = app.get_shipment(shipment_id_for(order_id, location))
        assert shipment.ship_to == NEW
        assert app.printing.packing_slip(shipment.id).shipment.ship_to == NEW
    assert published(app, before) == []  # orders asked for it: nothing to tell


def test_a_shipment_being_picked_refuses_and_orders_hears_of_it(app: Shipments) -> None:
    order_id = confirmed_order(app)
    before = position(app)
    pick_list_id = pick_at_wh1(app, order_id)
    [started] = published(app, before)
    assert isinstance(started, ev.PickingStarted)
    assert (started.order_id, started.shipment_id, started.pick_list_id, started.location_id) == (
        order_id,
        shipment_id_for(order_id, "WH-1"),
        pick_list_id,
        "WH-1",
    )
    before = position(app)

    handle(app, ship_to_changed(order_id))  # orders did not know yet that picking started

    assert app.get_shipment(shipment_id_for(order_id, "WH-1")).ship_to == {**OLD, "line2": None}
    assert app.get_shipment(shipment_id_for(order_id, "WH-2")).ship_to == NEW
    [refused] = published(app, before)
    assert isinstance(refused, ev.ShipToChangeRefused)
    assert (refused.order_id, refused.shipment_id) == (order_id, shipment_id_for(order_id, "WH-1"))
    assert str(pick_list_id) in refused.reason


def test_a_cancelled_pick_list_tells_orders_and_its_shipment_takes_a_later_change(
    app: Shipments,
) -> None:
    order_id = confirmed_order(app)
    pick_list_id = pick_at_wh1(app, order_id)
    before = position(app)

    app.picking.cancel_pick_list(pick_list_id, "cart broke down")
    handle(app, ship_to_changed(order_id))

    [released] = published(app, before)
    assert isinstance(released, ev.PickingReleased)
    assert (released.order_id, released.shipment_id) == (
        order_id,
        shipment_id_for(order_id, "WH-1"),
    )
    shipment = app.get_shipment(shipment_id_for(order_id, "WH-1"))
    assert (shipment.status, shipment.ship_to) == (ShipmentStatus.OPEN, NEW)


def test_a_change_for_an_order_without_shipments_records_nothing_and_does_not_fail(
    app: Shipments,
) -> None:
    order_id = uuid.uuid4()

    handle(app, ship_to_changed(order_id))  # before its confirmation, or never confirmed here

    assert position(app) == 0
    assert app.get_order_shipments(order_id) is None
    # The confirmation that follows on the same partition carries the order's new address.
    confirmed = factories.order_confirmed(order_id=order_id, shipping_address=NEW)
    handle(app, confirmed)
    assert app.get_shipment(shipment_id_for(order_id, "WH-1")).ship_to == NEW


def test_picking_events_publish_with_their_order_and_those_stored_before_publish_nothing() -> None:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    shipment_id, order_id, pick_list_id = uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4())
    fields = {"originator_id": shipment_id, "timestamp": at, "pick_list_id": pick_list_id}
    old_started = Shipment.PickingStarted(originator_version=2, slot=1, carrier=None, **fields)
    old_released = Shipment.PickingReleased(originator_version=3, **fields)
    started = Shipment.PickingStarted(
        originator_version=4, slot=1, carrier=None, order_id=order_id, location_id="WH-1", **fields
    )
    released = Shipment.PickingReleased(originator_version=5, order_id=order_id, **fields)

    assert EVENTS.to_integration(old_started) is None
    assert EVENTS.to_integration(old_released) is None
    assert EVENTS.to_integration(started) == ev.PickingStarted(
        order_id=order_id,
        shipment_id=shipment_id,
        pick_list_id=uuid.UUID(pick_list_id),
        location_id="WH-1",
        started_at=at,
    )
    assert EVENTS.to_integration(released) == ev.PickingReleased(
        order_id=order_id, shipment_id=shipment_id, released_at=at
    )
