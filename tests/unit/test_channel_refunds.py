"""Refunds made at the channel (a refund in Shopify's admin): counted by returns so the OMS never
pays those units or that money back again, and on the order's timeline, over-refunds flagged."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from services.channel_gateway.channels.base import Connection, MalformedPayloadError
from services.channel_gateway.channels.shopify import translate as shopify
from services.order_service.application import Orders
from services.order_service.domain import Order
from services.order_service.integration import CONSUMES as ORDER_CONSUMES
from services.returns_service.application import Returns
from services.returns_service.domain import OverRefundError, RefundQuantityError, RefundReason
from services.returns_service.integration import CONSUMES as RETURNS_CONSUMES
from shared import events as ev
from shared.events.base import now_utc
from tests import factories
from tests.factories_order_service import stored_events
from tests.factories_returns_service import MUG, TEE, order_shipped_from_two_locations
from tests.kit import apply


def channel_refund(
    order_id: UUID, amount: str, lines: dict[str, tuple[int, str]], refund_id: str = "929361464"
) -> ev.ChannelRefundRecorded:
    return ev.ChannelRefundRecorded(
        order_id=order_id,
        channel="shopify-eu",
        external_id="5829104790100",
        refund_id=refund_id,
        amount=Decimal(amount),
        currency="EUR",
        lines=[
            ev.RefundLine(sku=sku, quantity=n, amount=Decimal(money))
            for sku, (n, money) in lines.items()
        ],
        refunded_at=now_utc(),
    )


def test_units_refunded_at_the_channel_are_never_refunded_again_nor_their_money():
    app = Returns()
    shipped = order_shipped_from_two_locations()  # 2 TEE at 24.90, 1 MUG at 14.50: 64.30
    apply(app, RETURNS_CONSUMES, shipped)
    refund = channel_refund(shipped.order_id, "24.90", {TEE: (1, "24.90")})
    apply(app, RETURNS_CONSUMES, refund, refund)  # told twice, counted once

    order = app.get_refundable(shipped.order_id)
    assert (order.refunded_total, order.refundable) == (Decimal("24.90"), Decimal("39.40"))
    assert order.returnable(TEE) == 1
    with pytest.raises(RefundQuantityError):
        app.refund_without_return(shipped.order_id, RefundReason.LOST_PARCEL, [_units(TEE, 2)])
    with pytest.raises(OverRefundError):
        app.refund_without_return(shipped.order_id, RefundReason.GOODWILL, amount=Decimal("39.41"))


def test_a_refund_at_the_channel_before_the_order_shipped_counts_once_it_ships():
    app = Returns()
    shipped = order_shipped_from_two_locations()
    apply(app, RETURNS_CONSUMES, channel_refund(shipped.order_id, "14.50", {MUG: (1, "14.50")}))
    apply(app, RETURNS_CONSUMES, shipped)
    order = app.get_refundable(shipped.order_id)
    assert order.refundable == Decimal("49.80")
    assert order.returnable(MUG) == 0


def test_an_over_refund_at_the_channel_is_counted_as_it_happened_and_nothing_more_can_go():
    app = Returns()
    shipped = order_shipped_from_two_locations()
    apply(app, RETURNS_CONSUMES, shipped)
    apply(app, RETURNS_CONSUMES, channel_refund(shipped.order_id, "70.00", {}))
    order = app.get_refundable(shipped.order_id)
    assert (order.refunded_total, order.refundable) == (Decimal("70.00"), Decimal("0.00"))


def test_the_order_shows_a_channel_refund_once_and_flags_an_over_refund_for_ops():
    app = Orders()
    received = factories.channel_order_received(channel="shopify-eu")  # 2 x 24.90 paid
    apply(app, ORDER_CONSUMES, received)
    first = channel_refund(received.order_id, "24.90", {"TEE-BLK-M": (1, "24.90")}, "r-1")
    apply(app, ORDER_CONSUMES, first, first)
    apply(app, ORDER_CONSUMES, channel_refund(received.order_id, "30.00", {}, "r-2"))

    recorded = [e for e in stored_events(app) if isinstance(e, Order.RefundedAtChannel)]
    assert [(e.amount, e.over) for e in recorded] == [("24.90", None), ("30.00", "5.10")]
    assert app.get_order(received.order_id).refunded_total == Decimal("54.90")


def _units(sku: str, quantity: int) -> dict:
    return {"sku": sku, "quantity": quantity}


def test_a_shopify_refund_reads_money_from_its_refund_transactions_and_knows_ours():
    connection = Connection("shopify-eu", "shopify")
    body = {
        "id": 929361464,
        "order_id": 5829104790100,
        "note": "OMS refund 0b0f4c2e-7d53-5a4e-9f5c-2c8a6f1d9e31 (goodwill)",
        "refund_line_items": [
            {"line_item_id": 13630371725477, "quantity": 1, "subtotal": "14.50", "total_tax": 2.32}
        ],
        "transactions": [
            {"kind": "refund", "status": "success", "amount": "14.50", "currency": "EUR"},
            {"kind": "refund", "status": "failure", "amount": "14.50", "currency": "EUR"},
        ],
    }
    refund = shopify.refund(connection, body, "2026-12-01T10:00:00Z")
    assert (refund.amount, refund.currency) == (Decimal("14.50"), "EUR")
    assert refund.lines == [("13630371725477", 1, Decimal("14.50"))]
    assert refund.ours == "0b0f4c2e-7d53-5a4e-9f5c-2c8a6f1d9e31"
    theirs = shopify.refund(connection, {**body, "note": "damaged"}, "2026-12-01T10:00:00Z")
    assert theirs.ours is None
    with pytest.raises(MalformedPayloadError):
        shopify.refund(connection, {"id": 1}, "2026-12-01T10:00:00Z")


def test_our_refund_arriving_after_a_channel_refund_that_got_in_first_is_flagged_over():
    app = Orders()
    received = factories.channel_order_received(channel="shopify-eu")  # 2 x 24.90 paid
    apply(app, ORDER_CONSUMES, received)
    # Ours (10.00) was allowed against 49.80 left; the merchant's 40.00 reached us first.
    apply(app, ORDER_CONSUMES, channel_refund(received.order_id, "40.00", {}, "r-1"))
    app.record_refund(received.order_id, "ours-1", Decimal("10.00"))
    app.record_refund(received.order_id, "ours-1", Decimal("10.00"))

    refunds = [
        e for e in stored_events(app) if isinstance(e, Order.Refunded | Order.RefundedAtChannel)
    ]
    assert [(type(e).__name__, e.amount, e.over) for e in refunds] == [
        ("RefundedAtChannel", "40.00", None),
        ("Refunded", "10.00", "0.20"),
    ]
