"""A cash-on-delivery order's money is collected once, by the carrier of one shipment."""

from __future__ import annotations

import uuid
from decimal import Decimal

from services.fulfillment_service.domain import OrderShipments


def test_the_first_shipment_to_leave_collects_the_whole_amount_and_the_others_nothing() -> None:
    index = OrderShipments(order_id=uuid.uuid4())
    index.owe_on_delivery(Decimal("1210.50"), "THB")
    first, second = uuid.uuid4(), uuid.uuid4()

    assert index.collect_with(first) == {"amount": "1210.50", "currency": "THB"}
    assert index.collect_with(second) is None
    assert index.to_collect(first) == {"amount": "1210.50", "currency": "THB"}  # a retry


def test_an_order_paid_before_or_owing_nothing_has_nothing_to_collect() -> None:
    paid = OrderShipments(order_id=uuid.uuid4())
    nothing = OrderShipments(order_id=uuid.uuid4())
    nothing.owe_on_delivery(Decimal("0.000"), "KWD")

    assert paid.collect_with(uuid.uuid4()) is None
    assert nothing.collect_with(uuid.uuid4()) is None


def test_the_same_amount_told_again_records_nothing() -> None:
    index = OrderShipments(order_id=uuid.uuid4())

    assert index.owe_on_delivery(Decimal("12.345"), "KWD") is True
    assert index.owe_on_delivery(Decimal("12.345"), "KWD") is False
