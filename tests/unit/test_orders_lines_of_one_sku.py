"""An order with one SKU on two lines (lines are never merged): shipping, short picks, returns
and refunds count the SKU's units over both lines."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

from services.order_service.application import Orders
from services.order_service.domain import OrderStatus
from services.order_service.integration import CONSUMES
from shared import events as ev
from tests import factories
from tests.factories_order_service import place_order, published
from tests.kit import apply

# The tee twice, the second line discounted, and a mug.
LINES = [
    {"sku": "TEE", "quantity": 1, "unit_price": "20.00", "line_id": "a", "paid": "20.00"},
    {"sku": "TEE", "quantity": 2, "unit_price": "10.00", "line_id": "b", "paid": "18.00"},
    {"sku": "MUG", "quantity": 1, "unit_price": "14.50", "line_id": "c", "paid": "14.50"},
]


def confirmed(app: Orders) -> UUID:
    order_id = place_order(app, lines=LINES)
    app.confirm_order(order_id, factories.allocations({"TEE": 3, "MUG": 1}, "WH"))
    return order_id


def ship(app: Orders, order_id: UUID, quantities: dict[str, int], shipment_id: UUID) -> None:
    news = factories.shipped(order_id, quantities, shipment_id=shipment_id, location_id="WH")
    apply(app, CONSUMES, news)


def shipped_lines(app: Orders) -> list[tuple[str, int, str | None, str | None]]:
    (shipped,) = [p for p in published(app) if isinstance(p, ev.OrderShipped)]
    return [(x.sku, x.quantity, x.line_id, str(x.paid)) for x in shipped.lines]


def test_the_order_ships_only_when_every_unit_of_both_lines_left_and_keeps_both_lines():
    app = Orders()
    order_id = confirmed(app)

    ship(app, order_id, {"TEE": 1, "MUG": 1}, uuid4())  # the first line's quantity, not the SKU's
    partly = app.get_order(order_id).status
    ship(app, order_id, {"TEE": 2}, uuid4())

    assert partly == OrderStatus.PARTIALLY_SHIPPED
    assert app.get_order(order_id).status == OrderStatus.SHIPPED
    assert shipped_lines(app) == [
        ("TEE", 1, "a", "20.00"),
        ("TEE", 2, "b", "18.00"),
        ("MUG", 1, "c", "14.50"),
    ]


def test_a_short_unit_of_the_sku_is_taken_off_its_last_line():
    # Shipped units fill the SKU's lines in order: the unit nobody found is the last line's.
    app = Orders()
    order_id = confirmed(app)
    shipment_id = uuid4()
    short = ev.ShortPicked(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id="WH",
        pick_list_id=uuid4(),
        lines=[{"sku": "TEE", "bin": "A-1", "expected": 3, "picked": 2}],
        short_at=ev.now_utc(),
    )

    apply(app, CONSUMES, short)
    ship(app, order_id, {"TEE": 2, "MUG": 1}, shipment_id)

    assert app.get_order(order_id).status == OrderStatus.SHIPPED
    assert shipped_lines(app) == [
        ("TEE", 1, "a", "20.00"),
        ("TEE", 1, "b", "9.00"),  # its share of what was paid for the line
        ("MUG", 1, "c", "14.50"),
    ]


def test_returns_and_refunds_of_the_sku_count_its_units_over_both_lines():
    app = Orders()
    order_id = confirmed(app)
    ship(app, order_id, {"TEE": 3, "MUG": 1}, uuid4())

    app.record_return(order_id, "r1", [{"sku": "TEE", "quantity": 2}])
    app.record_refund(order_id, "f1", Decimal("25.33"))
    partly = app.get_order(order_id).status
    app.record_return(
        order_id, "r2", [{"sku": "TEE", "quantity": 1}, {"sku": "MUG", "quantity": 1}]
    )
    app.record_refund(order_id, "f2", Decimal("27.17"))

    order = app.get_order(order_id)
    assert partly == OrderStatus.PARTIALLY_RETURNED
    assert order.status == OrderStatus.RETURNED
    assert order.returned == {"TEE": 3, "MUG": 1}
    assert order.refunded_total == Decimal("52.50")
