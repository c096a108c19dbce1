"""Changing an order's ship-to before picking, on the in-memory event store."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from services.order_service.application import Orders
from services.order_service.domain import Order, OrderNotEditableError, OrderStatus
from services.order_service.integration import CONSUMES
from shared import events as ev
from shared.events import now_utc
from tests import factories
from tests.factories_order_service import place_order, published, stored_events
from tests.kit import apply

NEW_ADDRESS = {
    **factories.address(name="Ann Example", line1="Kastanienallee 12", postal_code="10435"),
    "line2": "Hinterhaus",
    "company": None,
    "phone": None,
    "state": "Berlin",
    "state_code": "DE-BE",
}


def confirmed_order(app: Orders) -> UUID:
    """An order of 2 TEE, reserved at WH-1."""
    order_id = place_order(app, lines=factories.lines({"TEE": 2}))
    app.confirm_order(order_id, factories.allocations({"TEE": 2}, "WH-1"))
    return order_id


def picking_started(order_id: UUID, shipment_id: UUID, pick_list_id: UUID) -> ev.PickingStarted:
    """Fulfillment put the shipment on a pick list."""
    return ev.PickingStarted(
        order_id=order_id,
        shipment_id=shipment_id,
        pick_list_id=pick_list_id,
        location_id="WH-1",
        started_at=now_utc(),
    )


def released(order_id: UUID, shipment_id: UUID) -> ev.PickingReleased:
    """Fulfillment cancelled the shipment's pick list."""
    return ev.PickingReleased(order_id=order_id, shipment_id=shipment_id, released_at=now_utc())


def position(app: Orders) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_new_ship_to_is_recorded_and_published_for_the_warehouse():
    app = Orders()
    order_id = confirmed_order(app)

    order = app.change_ship_to(order_id, NEW_ADDRESS, "customer moved")

    assert order.shipping_address == NEW_ADDRESS
    assert app.get_order(order_id).shipping_address == NEW_ADDRESS
    assert app.get_order(order_id).status == OrderStatus.CONFIRMED
    changed = stored_events(app)[-1]
    assert isinstance(changed, Order.ShipToChanged)
    assert changed.reason == "customer moved"
    public = published(app)[-1]
    assert isinstance(public, ev.OrderShipToChanged)
    assert public.order_id == order_id
    assert public.shipping_address.model_dump() == NEW_ADDRESS


def test_the_same_address_again_records_nothing():
    app = Orders()
    order_id = confirmed_order(app)
    app.change_ship_to(order_id, NEW_ADDRESS)
    before = position(app)

    app.change_ship_to(order_id, NEW_ADDRESS)

    assert position(app) == before


def test_a_change_before_confirmation_goes_to_the_warehouse_with_the_confirmation():
    app = Orders()
    order_id = place_order(app, lines=factories.lines({"TEE": 2}))
    app.change_ship_to(order_id, NEW_ADDRESS)

    app.confirm_order(order_id, factories.allocations({"TEE": 2}, "WH-1"))

    confirmed = published(app)[-1]
    assert isinstance(confirmed, ev.OrderConfirmed)
    assert confirmed.shipping_address.model_dump() == NEW_ADDRESS


def test_a_cancelled_order_refuses_a_new_ship_to_and_records_nothing():
    app = Orders()
    order_id = confirmed_order(app)
    app.cancel_order(order_id, "changed mind")
    before = position(app)

    with pytest.raises(OrderNotEditableError, match="cancelled") as refused:
        app.change_ship_to(order_id, NEW_ADDRESS)

    assert refused.value.details() == {}
    assert position(app) == before


def test_an_order_with_a_shipment_that_left_refuses_a_new_ship_to_and_records_nothing():
    app = Orders()
    order_id = place_order(app, lines=factories.lines({"TEE": 2, "MUG": 1}))
    app.confirm_order(order_id, factories.allocations({"TEE": 2, "MUG": 1}, "WH-1"))
    apply(app, CONSUMES, factories.shipped(order_id, {"TEE": 2}))
    before = position(app)

    with pytest.raises(OrderNotEditableError, match="partially_shipped"):
        app.change_ship_to(order_id, NEW_ADDRESS)

    assert position(app) == before
    assert app.get_order(order_id).shipping_address == factories.address()


def test_picking_started_fixes_the_ship_to_and_the_refusal_names_the_shipment():
    app = Orders()
    order_id = confirmed_order(app)
    shipment_id, pick_list_id = uuid4(), uuid4()
    apply(app, CONSUMES, picking_started(order_id, shipment_id, pick_list_id))
    before = position(app)

    with pytest.raises(OrderNotEditableError) as refused:
        app.change_ship_to(order_id, NEW_ADDRESS)

    assert str(shipment_id) in str(refused.value) and str(pick_list_id) in str(refused.value)
    assert refused.value.details() == {"shipment_id": str(shipment_id)}
    assert position(app) == before
    assert app.get_order(order_id).picking == {str(shipment_id): str(pick_list_id)}


def test_the_same_picking_news_twice_is_recorded_once_and_stays_inside():
    app = Orders()
    order_id = confirmed_order(app)
    started = picking_started(order_id, uuid4(), uuid4())
    apply(app, CONSUMES, started)
    before = position(app)

    apply(app, CONSUMES, started)

    assert position(app) == before
    assert isinstance(stored_events(app)[-1], Order.PickingStarted)
    assert published(app)[-1] is None  # fulfillment publishes that fact itself


def test_picking_released_makes_the_ship_to_editable_again():
    app = Orders()
    order_id = confirmed_order(app)
    shipment_id = uuid4()
    apply(app, CONSUMES, picking_started(order_id, shipment_id, uuid4()))

    apply(app, CONSUMES, released(order_id, shipment_id))
    app.change_ship_to(order_id, NEW_ADDRESS)

    order = app.get_order(order_id)
    assert order.picking == {}
    assert order.shipping_address == NEW_ADDRESS
    kinds = [type(e) for e in stored_events(app)][-3:]
    assert kinds == [Order.PickingStarted, Order.PickingReleased, Order.ShipToChanged]


def test_a_release_of_one_shipment_leaves_the_other_one_being_picked():
    app = Orders()
    order_id = confirmed_order(app)
    first, second = uuid4(), uuid4()
    apply(
        app,
        CONSUMES,
        picking_started(order_id, first, uuid4()),
        picking_started(order_id, second, uuid4()),
        released(order_id, first),
    )

    with pytest.raises(OrderNotEditableError) as refused:
        app.change_ship_to(order_id, NEW_ADDRESS)

    assert refused.value.details() == {"shipment_id": str(second)}


def test_a_shipment_that_refused_the_change_is_recorded_as_an_exception():
    app = Orders()
    order_id = confirmed_order(app)
    app.change_ship_to(order_id, NEW_ADDRESS)
    shipment_id = uuid4()
    reason = "picking started (pick list x): it keeps its ship-to"

    apply(
        app,
        CONSUMES,
        ev.ShipToChangeRefused(
            order_id=order_id, shipment_id=shipment_id, reason=reason, refused_at=now_utc()
        ),
    )

    refused = stored_events(app)[-1]
    assert isinstance(refused, Order.ShipToRefused)
    assert (refused.shipment_id, refused.reason) == (str(shipment_id), reason)
    assert published(app)[-1] is None


def test_after_a_refusal_the_same_address_is_sent_again_once():
    app = Orders()
    order_id = confirmed_order(app)
    app.change_ship_to(order_id, NEW_ADDRESS)
    shipment_id = uuid4()
    refused = ev.ShipToChangeRefused(
        order_id=order_id, shipment_id=shipment_id, reason="picked", refused_at=now_utc()
    )
    apply(app, CONSUMES, refused, released(order_id, shipment_id))

    app.change_ship_to(order_id, NEW_ADDRESS)  # its pick list was cancelled: send it again
    before = position(app)
    app.change_ship_to(order_id, NEW_ADDRESS)

    assert position(app) == before
    again = published(app)[-1]
    assert isinstance(again, ev.OrderShipToChanged)
    assert again.shipping_address.model_dump() == NEW_ADDRESS
