"""Cancelling units and adding lines before picking, on the in-memory event store."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from services.order_service.application import Orders
from services.order_service.domain import (
    Order,
    OrderEditError,
    OrderNotEditableError,
    OrderStatus,
)
from shared import events as ev
from shared.payments import PaymentState
from tests import factories
from tests.factories_order_service import place_order, published, stored_events

# Two lines of one SKU (never merged), the first discounted: 3 x 10.000 KWD less 1.000 paid
# 29.000; the second 1 x 10.000 paid 10.000.
KWD_LINES = [
    {"sku": "TEE", "quantity": 3, "unit_price": "10.000", "discount": "1.000", "paid": "29.000"},
    {"sku": "TEE", "quantity": 1, "unit_price": "10.000", "title": "قميص", "paid": "10.000"},
]


def confirmed(app: Orders, lines: list[dict] | None = None) -> UUID:
    """A paid order, reserved at WH-1 and confirmed."""
    lines = lines or factories.lines({"TEE": 2, "MUG": 1})
    order_id = place_order(app, lines=lines)
    units: dict[str, int] = {}
    for line in lines:
        units[line["sku"]] = units.get(line["sku"], 0) + line["quantity"]
    app.confirm_order(order_id, factories.allocations(units, "WH-1"))
    return order_id


def kwd_order(app: Orders) -> UUID:
    """A confirmed order in Kuwaiti dinars (three decimals), lines as KWD_LINES."""
    order_id = uuid4()
    app.place_order(
        order_id,
        channel="web",
        external_id=order_id.hex,
        customer=factories.customer(),
        shipping_address=factories.address(),
        lines=KWD_LINES,
        currency="KWD",
    )
    app.confirm_order(order_id, factories.allocations({"TEE": 4}, "WH-1"))
    return order_id


def test_cancelling_units_keeps_what_was_paid_for_the_rest_and_carries_the_remainder():
    app = Orders()
    order_id = kwd_order(app)

    order = app.edit_lines(order_id, [{"line": 1, "quantity": 2}], [], "customer asked")

    # 29.000 for 3 units: the unit left keeps 9.666 (cut down), the two cancelled carry 19.334.
    assert order.lines[0]["quantity"] == 1
    assert order.lines[0]["paid"] == "9.666"
    assert order.lines[1] == KWD_LINES[1]
    edit = published(app)[-1]
    assert isinstance(edit, ev.OrderLinesChanged)
    assert edit.revision == 1
    assert [(c.line, c.sku, c.quantity, c.paid) for c in edit.cancelled] == [
        (1, "TEE", 2, Decimal("19.334"))
    ]
    kept = sum((Decimal(str(line["paid"])) for line in order.lines), Decimal(0))
    assert kept + edit.cancelled[0].paid == Decimal("39.000")  # nothing lost, nothing made up


def test_an_edit_places_the_order_again_and_drops_its_allocations():
    app = Orders()
    order_id = confirmed(app)

    order = app.edit_lines(order_id, [{"line": 2, "quantity": 1}], [], "out of mugs")

    assert order.status == OrderStatus.PLACED
    assert order.allocations == []
    assert [line["sku"] for line in order.lines] == ["TEE"]
    edit = stored_events(app)[-1]
    assert isinstance(edit, Order.LinesEdited)
    assert edit.reason == "out of mugs"


def test_a_stock_answer_for_the_old_lines_is_ignored_and_the_new_one_confirms():
    app = Orders()
    order_id = confirmed(app)
    app.edit_lines(order_id, [{"line": 1, "quantity": 1}], [], "one tee")

    app.confirm_order(order_id, factories.allocations({"TEE": 2, "MUG": 1}), revision=0)
    assert app.get_order(order_id).status == OrderStatus.PLACED
    app.backorder_order(order_id, [{"sku": "TEE", "requested": 2, "available": 0}], revision=0)
    assert app.get_order(order_id).status == OrderStatus.PLACED

    app.confirm_order(order_id, factories.allocations({"TEE": 1, "MUG": 1}), revision=1)
    order = app.get_order(order_id)
    assert order.status == OrderStatus.CONFIRMED
    confirmed_event = published(app)[-1]
    assert isinstance(confirmed_event, ev.OrderConfirmed)
    assert [(line.sku, line.quantity) for line in confirmed_event.lines] == [("TEE", 1), ("MUG", 1)]


def test_adding_a_priced_line_to_a_paid_order_leaves_a_balance():
    app = Orders()
    order_id = confirmed(app)
    mug = {"sku": "MUG", "quantity": 2, "unit_price": "8.50", "paid": "17.00", "title": "Mug"}

    order = app.edit_lines(order_id, [], [mug], "added by phone")

    assert order.lines[-1] == mug
    assert order.payment_state == "partially_paid"
    edit = published(app)[-1]
    assert isinstance(edit, ev.OrderLinesChanged)
    assert [line.sku for line in edit.added] == ["MUG"]
    assert edit.payment_state == "partially_paid"


def test_adding_a_free_line_changes_nothing_of_the_payment():
    app = Orders()
    order_id = confirmed(app)
    gift = {"sku": "CARD", "quantity": 1, "unit_price": "0", "paid": "0"}

    assert app.edit_lines(order_id, [], [gift], "gift card").payment_state == "paid"


@pytest.mark.parametrize(
    ("cancel", "message"),
    [
        ([{"line": 3, "quantity": 1}], "no line 3"),
        ([{"line": 1, "quantity": 3}], "line 1 has 2 units"),
        ([{"line": 1, "quantity": 1}, {"line": 1, "quantity": 2}], "line 1 has 2 units"),
        ([{"line": 1, "quantity": 2}, {"line": 2, "quantity": 1}], "cancel the order instead"),
        ([], "changes nothing"),
    ],
)
def test_a_wrong_edit_is_refused_and_records_nothing(cancel, message):
    app = Orders()
    order_id = confirmed(app)
    before = len(stored_events(app))

    with pytest.raises(OrderEditError, match=message):
        app.edit_lines(order_id, cancel, [], "x")

    assert len(stored_events(app)) == before


def test_once_picking_started_an_edit_names_the_shipment():
    app = Orders()
    order_id = confirmed(app)
    shipment_id, pick_list_id = str(uuid4()), str(uuid4())
    app.record_picking_started(order_id, shipment_id, pick_list_id, "WH-1")

    with pytest.raises(OrderNotEditableError) as refused:
        app.edit_lines(order_id, [{"line": 1, "quantity": 1}], [], "too late")

    assert refused.value.shipment_id == shipment_id
    assert "its lines can no longer change" in str(refused.value)


def test_a_shipped_or_cancelled_order_cannot_be_edited():
    app = Orders()
    cancelled = confirmed(app)
    app.cancel_order(cancelled, "x")
    with pytest.raises(OrderNotEditableError, match="cancelled"):
        app.edit_lines(cancelled, [{"line": 1, "quantity": 1}], [], "x")

    shipped = confirmed(app)
    app.record_shipment(
        shipped,
        {
            "shipment_id": str(uuid4()),
            "location_id": "WH-1",
            "carrier": "dhl",
            "tracking_number": "1Z",
            "lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}],
        },
    )
    with pytest.raises(OrderNotEditableError, match="parcels left"):
        app.edit_lines(shipped, [{"line": 1, "quantity": 1}], [], "x")


def test_a_shipment_that_kept_its_lines_is_an_exception_told_once():
    app = Orders()
    order_id = confirmed(app)
    app.edit_lines(order_id, [{"line": 1, "quantity": 1}], [], "one tee")
    shipment_id = str(uuid4())

    app.record_edit_refused(order_id, shipment_id, 1, "picking started")
    app.record_edit_refused(order_id, shipment_id, 1, "picking started")

    refusals = [e for e in stored_events(app) if isinstance(e, Order.EditRefused)]
    assert [(r.shipment_id, r.revision) for r in refusals] == [(shipment_id, 1)]
    assert published(app)[-1] is None  # the order's own exception, not a public event


def test_an_order_owing_for_added_lines_waits_for_the_payment_then_goes_out_again():
    app = Orders()
    order_id = confirmed(app)
    cap = {"sku": "CAP", "quantity": 1, "unit_price": "5", "paid": "5"}
    app.edit_lines(order_id, [], [cap], "added a cap")

    everything = factories.allocations({"TEE": 2, "MUG": 1, "CAP": 1}, "WH-2")
    app.confirm_order(order_id, everything, revision=1)
    assert app.get_order(order_id).status == OrderStatus.AWAITING_PAYMENT

    app.record_payment(order_id, PaymentState.PAID, reference="transfer-2", source="merchant")

    assert app.get_order(order_id).status == OrderStatus.CONFIRMED
    confirmations = [e for e in published(app) if isinstance(e, ev.OrderConfirmed)]
    assert len(confirmations) == 2
    assert {a.location_id for a in confirmations[-1].allocations} == {"WH-2"}
    assert [line.sku for line in confirmations[-1].lines] == ["TEE", "MUG", "CAP"]
