"""The Order lifecycle, on the in-memory event store."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from services.order_service.application import Orders
from services.order_service.bootstrap import service_events
from services.order_service.domain import (
    Order,
    OrderNotCancellableError,
    OrderNotFoundError,
    OrderStatus,
    order_id_for,
)
from services.order_service.integration import CONSUMES
from shared import events as ev
from tests import factories
from tests.factories_order_service import place_order, published, stored_events, tee_and_mug
from tests.kit import apply


def place(app: Orders, external_id: str = "1001") -> UUID:
    return place_order(app, external_id, lines=tee_and_mug())


def test_the_same_channel_order_id_always_gives_the_same_order_id():
    assert order_id_for("web", "1001") == order_id_for("web", "1001")
    assert order_id_for("web", "1001") != order_id_for("shopify", "1001")


def test_placing_the_same_order_twice_records_it_once():
    app = Orders()
    order_id = place(app)
    place(app)
    assert len(app.notification_log.select(start=1, limit=10)) == 1
    assert app.get_order(order_id).status == OrderStatus.PLACED


def test_reserved_stock_confirms_an_order_and_a_second_reservation_changes_nothing():
    app = Orders()
    order_id = place(app)
    app.confirm_order(order_id, factories.allocations({"TEE": 2, "MUG": 1}, "WH-BER"))
    app.confirm_order(order_id, factories.allocations({"TEE": 2}, "WH-AMS"))
    order = app.get_order(order_id)
    assert order.status == OrderStatus.CONFIRMED
    assert order.allocations[0]["location_id"] == "WH-BER"


def test_a_backordered_order_is_confirmed_when_stock_is_reserved_later():
    app = Orders()
    order_id = place(app)
    app.backorder_order(order_id, [{"sku": "TEE", "requested": 2, "available": 0}])
    assert app.get_order(order_id).status == OrderStatus.BACKORDERED
    app.confirm_order(order_id, factories.allocations({"TEE": 2, "MUG": 1}, "WH-BER"))
    assert app.get_order(order_id).status == OrderStatus.CONFIRMED


def test_an_order_ships_when_every_unit_has_left_and_not_before():
    app = Orders()
    order_id = place(app)
    app.confirm_order(
        order_id,
        [
            *factories.allocations({"TEE": 2}, "WH-BER"),
            *factories.allocations({"MUG": 1}, "WH-AMS"),
        ],
    )
    first = factories.shipped(order_id, {"TEE": 2}, location_id="WH-BER")
    apply(app, CONSUMES, first)
    apply(app, CONSUMES, first)  # redelivered
    assert app.get_order(order_id).status == OrderStatus.PARTIALLY_SHIPPED
    apply(app, CONSUMES, factories.shipped(order_id, {"MUG": 1}, location_id="WH-AMS"))
    assert app.get_order(order_id).status == OrderStatus.SHIPPED
    to_integration = service_events().to_integration
    shipped = [to_integration(e) for e in stored_events(app) if isinstance(e, Order.Shipped)]
    assert isinstance(shipped[0], ev.OrderShipped)
    assert len(shipped[0].shipments) == 2


def test_a_shipped_order_cannot_be_cancelled_but_cancelling_twice_is_harmless():
    app = Orders()
    order_id = place(app)
    app.cancel_order(order_id, "customer asked")
    app.cancel_order(order_id, "customer asked again")
    assert app.get_order(order_id).status == OrderStatus.CANCELLED
    assert len(app.notification_log.select(start=1, limit=10)) == 2

    shipped_id = place(app, "1002")
    app.confirm_order(shipped_id, factories.allocations({"TEE": 2, "MUG": 1}, "WH-BER"))
    apply(app, CONSUMES, factories.shipped(shipped_id, {"TEE": 1}, location_id="WH-BER"))
    with pytest.raises(OrderNotCancellableError):
        app.cancel_order(shipped_id, "too late")


def test_returns_and_refunds_count_once_each():
    app = Orders()
    order_id = place(app)
    app.confirm_order(order_id, factories.allocations({"TEE": 2, "MUG": 1}, "WH-BER"))
    apply(app, CONSUMES, factories.shipped(order_id, {"TEE": 2, "MUG": 1}, location_id="WH-BER"))
    app.record_return(order_id, "r1", [{"sku": "TEE", "quantity": 1}])
    app.record_return(order_id, "r1", [{"sku": "TEE", "quantity": 1}])
    app.record_refund(order_id, "f1", Decimal("24.90"))
    app.record_refund(order_id, "f1", Decimal("24.90"))
    order = app.get_order(order_id)
    assert order.status == OrderStatus.PARTIALLY_RETURNED
    assert order.refunded_total == Decimal("24.90")


def test_an_unknown_order_is_reported_not_invented():
    with pytest.raises(OrderNotFoundError):
        Orders().cancel_order(uuid4(), "no such order")


def test_integration_handlers_place_and_confirm_in_one_unit_of_work():
    app = Orders()
    received = factories.channel_order_received(
        order_id=order_id_for("web", "2001"), external_id="2001", lines=tee_and_mug()
    )
    reserved = ev.StockReserved(
        order_id=received.order_id,
        allocations=factories.allocations({"TEE": 2, "MUG": 1}, "WH-BER"),
        reserved_at=ev.now_utc(),
    )
    apply(app, CONSUMES, received, reserved)
    public = published(app)
    assert [type(p).__name__ for p in public] == ["OrderPlaced", "OrderConfirmed"]
    assert public[1].shipping_address.city == "Berlin"
