"""The Order lifecycle, on the in-memory event store."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from services.order_service import domain
from services.order_service.application import Orders
from services.order_service.domain import OrderNotCancellableError, OrderNotFoundError, order_id_for
from services.order_service.integration import HANDLERS, to_integration
from shared import events as ev
from shared.runtime.application import UnitOfWork

ADDRESS = {
    "name": "Ann",
    "line1": "Main St 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
CUSTOMER = {"name": "Ann", "email": "ann@example.com"}
LINES = [
    {"sku": "TEE", "quantity": 2, "unit_price": "24.90"},
    {"sku": "MUG", "quantity": 1, "unit_price": "14.50"},
]


def place(app: Orders, external_id: str = "1001") -> object:
    order_id = order_id_for("web", external_id)
    app.place_order(order_id, "web", external_id, CUSTOMER, ADDRESS, LINES, "EUR")
    return order_id


def allocations(*pairs: tuple[str, str, int]) -> list[dict]:
    return [{"sku": s, "location_id": loc, "quantity": q} for s, loc, q in pairs]


def shipment(location: str, lines: list[dict]) -> dict:
    return {
        "shipment_id": str(uuid4()),
        "location_id": location,
        "carrier": "DHL",
        "tracking_number": "JD1",
        "lines": lines,
    }


def test_the_same_channel_order_id_always_gives_the_same_order_id():
    assert order_id_for("web", "1001") == order_id_for("web", "1001")
    assert order_id_for("web", "1001") != order_id_for("shopify", "1001")


def test_placing_the_same_order_twice_records_it_once():
    app = Orders()
    order_id = place(app)
    place(app)
    assert len(app.notification_log.select(start=1, limit=10)) == 1
    assert app.get_order(order_id).status == domain.PLACED


def test_reserved_stock_confirms_an_order_and_a_second_reservation_changes_nothing():
    app = Orders()
    order_id = place(app)
    app.confirm_order(order_id, allocations(("TEE", "WH-BER", 2), ("MUG", "WH-BER", 1)))
    app.confirm_order(order_id, allocations(("TEE", "WH-AMS", 2)))
    order = app.get_order(order_id)
    assert order.status == domain.CONFIRMED
    assert order.allocations[0]["location_id"] == "WH-BER"


def test_a_backordered_order_is_confirmed_when_stock_is_reserved_later():
    app = Orders()
    order_id = place(app)
    app.backorder_order(order_id, [{"sku": "TEE", "requested": 2, "available": 0}])
    assert app.get_order(order_id).status == domain.BACKORDERED
    app.confirm_order(order_id, allocations(("TEE", "WH-BER", 2), ("MUG", "WH-BER", 1)))
    assert app.get_order(order_id).status == domain.CONFIRMED


def test_an_order_ships_when_every_unit_has_left_and_not_before():
    app = Orders()
    order_id = place(app)
    app.confirm_order(order_id, allocations(("TEE", "WH-BER", 2), ("MUG", "WH-AMS", 1)))
    first = shipment("WH-BER", [{"sku": "TEE", "quantity": 2}])
    app.record_shipment(order_id, first)
    app.record_shipment(order_id, first)  # redelivered
    assert app.get_order(order_id).status == domain.PARTIALLY_SHIPPED
    app.record_shipment(order_id, shipment("WH-AMS", [{"sku": "MUG", "quantity": 1}]))
    assert app.get_order(order_id).status == domain.SHIPPED
    stored = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 50)]
    shipped = [to_integration(e) for e in stored if type(e).__name__ == "Shipped"]
    assert isinstance(shipped[0], ev.OrderShipped)
    assert len(shipped[0].shipments) == 2


def test_a_shipped_order_cannot_be_cancelled_but_cancelling_twice_is_harmless():
    app = Orders()
    order_id = place(app)
    app.cancel_order(order_id, "customer asked")
    app.cancel_order(order_id, "customer asked again")
    assert app.get_order(order_id).status == domain.CANCELLED
    assert len(app.notification_log.select(start=1, limit=10)) == 2

    shipped_id = place(app, "1002")
    app.confirm_order(shipped_id, allocations(("TEE", "WH-BER", 2), ("MUG", "WH-BER", 1)))
    app.record_shipment(shipped_id, shipment("WH-BER", [{"sku": "TEE", "quantity": 1}]))
    with pytest.raises(OrderNotCancellableError):
        app.cancel_order(shipped_id, "too late")


def test_returns_and_refunds_count_once_each():
    app = Orders()
    order_id = place(app)
    app.confirm_order(order_id, allocations(("TEE", "WH-BER", 2), ("MUG", "WH-BER", 1)))
    app.record_shipment(
        order_id, shipment("WH-BER", [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}])
    )
    app.record_return(order_id, "r1", [{"sku": "TEE", "quantity": 1}])
    app.record_return(order_id, "r1", [{"sku": "TEE", "quantity": 1}])
    app.record_refund(order_id, "f1", Decimal("24.90"))
    app.record_refund(order_id, "f1", Decimal("24.90"))
    order = app.get_order(order_id)
    assert order.status == domain.PARTIALLY_RETURNED
    assert order.refunded_total == Decimal("24.90")


def test_an_unknown_order_is_reported_not_invented():
    with pytest.raises(OrderNotFoundError):
        Orders().cancel_order(uuid4(), "no such order")


def test_integration_handlers_place_and_confirm_in_one_unit_of_work():
    app = Orders()
    received = ev.ChannelOrderReceived(
        order_id=order_id_for("web", "2001"),
        channel="web",
        external_id="2001",
        customer=CUSTOMER,
        shipping_address=ADDRESS,
        lines=LINES,
        currency="EUR",
        received_at=ev.now_utc(),
    )
    reserved = ev.StockReserved(
        order_id=received.order_id,
        allocations=allocations(("TEE", "WH-BER", 2), ("MUG", "WH-BER", 1)),
        reserved_at=ev.now_utc(),
    )
    uow = UnitOfWork(app)
    HANDLERS[ev.ChannelOrderReceived](app, received, uow)
    HANDLERS[ev.StockReserved](app, reserved, uow)
    uow.commit()
    stored = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 50)]
    public = [to_integration(e) for e in stored]
    assert [type(p).__name__ for p in public] == ["OrderPlaced", "OrderConfirmed"]
    assert public[1].shipping_address.city == "Berlin"
