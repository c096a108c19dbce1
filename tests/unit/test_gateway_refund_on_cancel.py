"""Cancelling a paid order refunds it: through the channel's cancel delivery, or, for the
merchant's own channels, as a refund due on the order's timeline (ChannelRefundDue)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, cast

import pytest

from services.channel_gateway import bootstrap, integration
from services.channel_gateway.application import ChannelOrders, Translation
from services.channel_gateway.domain import CanonicalOrder, delivery_id_for
from shared import events as ev
from tests import factories
from tests.factories_channel_gateway import refunded
from tests.kit import apply


def order_in(app: ChannelOrders, channel: str, payment_state: str) -> uuid.UUID:
    """Two tees at 10.00, 18.00 paid after a discount, in the payment state the channel said."""
    order: dict[str, Any] = {
        "customer": factories.customer(),
        "shipping_address": factories.address(),
        "lines": [{"sku": "TEE", "quantity": 2, "unit_price": "10.00", "paid": "18.00"}],
        "currency": "EUR",
        "payment_state": payment_state,
    }
    translation = Translation(channel, uuid.uuid4().hex, order=cast(CanonicalOrder, order))
    return app.intake.take_in_one(translation).order_id


def cancel(order_id: uuid.UUID, channel: str, payment_state: str | None) -> ev.OrderCancelled:
    return factories.order_cancelled(
        order_id,
        channel=channel,
        external_id="x",
        reason="out of stock",
        payment_state=payment_state,
    )


def published(app: ChannelOrders) -> list[ev.IntegrationEvent]:
    events = bootstrap.events()
    stored = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 1000)]
    return [e for e in (events.to_integration(s) for s in stored) if e is not None]


@pytest.mark.parametrize(
    ("payment_state", "refund"),
    [
        ("paid", True),
        ("partially_paid", True),
        ("partially_refunded", True),
        ("authorized", False),
        ("pending", False),
        ("cash_on_delivery", False),
    ],
)
def test_a_marketplace_order_s_cancel_refunds_it_when_the_buyer_s_money_was_taken(
    payment_state: str, refund: bool
):
    app = ChannelOrders()
    order_id = order_in(app, "shopify-eu", "pending")
    apply(app, integration.CONSUMES, cancel(order_id, "shopify-eu", payment_state))
    delivery = app.deliveries.get(delivery_id_for(order_id, "cancellation", "cancel"))
    assert delivery.details["refund"] is refund
    assert delivery.details["payment_state"] == payment_state


def test_without_the_order_s_payment_state_the_gateway_goes_by_what_the_channel_said():
    app = ChannelOrders()
    paid, unpaid = order_in(app, "woo-de", "paid"), order_in(app, "woo-de", "pending")
    for order_id in (paid, unpaid):
        apply(app, integration.CONSUMES, cancel(order_id, "woo-de", None))
    refunds = [
        app.deliveries.get(delivery_id_for(o, "cancellation", "cancel")).details["refund"]
        for o in (paid, unpaid)
    ]
    assert refunds == [True, False]


def test_a_paid_own_channel_order_cancelled_has_its_refund_due_on_the_timeline_once():
    app = ChannelOrders()
    order_id = order_in(app, "web", "paid")
    apply(app, integration.CONSUMES, refunded(order_id, "TEE", "3.00"))
    news = cancel(order_id, "web", "paid")
    apply(app, integration.CONSUMES, news)
    apply(app, integration.CONSUMES, news)

    (due,) = [e for e in published(app) if isinstance(e, ev.ChannelRefundDue)]
    assert (due.order_id, due.channel, due.payment_state) == (order_id, "web", "paid")
    assert (due.amount, due.currency) == (Decimal("15.00"), "EUR")  # 18.00 paid, 3.00 back
    assert "out of stock" in due.reason
    with pytest.raises(Exception, match="no delivery"):  # no channel API to tell
        app.deliveries.get(delivery_id_for(order_id, "cancellation", "cancel"))


def test_an_unpaid_own_channel_order_cancelled_owes_nothing():
    app = ChannelOrders()
    order_id = order_in(app, "phone", "pending")
    apply(app, integration.CONSUMES, cancel(order_id, "phone", "pending"))
    assert not [e for e in published(app) if isinstance(e, ev.ChannelRefundDue)]


def test_refunds_without_a_return_reach_the_channel_with_their_reason_and_kind():
    app = ChannelOrders()
    order_id = order_in(app, "shopify-eu", "paid")
    goodwill = refunded(order_id, "TEE", "5.00", reason="goodwill", refund_kind="amount")
    older = refunded(order_id, "TEE", "9.00")  # a return's refund, told before reasons
    apply(app, integration.CONSUMES, goodwill)
    apply(app, integration.CONSUMES, older)
    details = [
        app.deliveries.get(delivery_id_for(order_id, "refund", str(r.refund_id))).details
        for r in (goodwill, older)
    ]
    assert [(d["reason"], d["refund_kind"]) for d in details] == [
        ("goodwill", "amount"),
        ("return", "units"),
    ]
