"""A cancelled order tells how far it was paid (so its channel refunds it), and a paid order no
channel can refund shows the refund due as an exception on its timeline, once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.order_service.application import Orders
from services.order_service.integration import CONSUMES
from shared import events as ev
from shared.events.base import now_utc
from tests import factories
from tests.factories_order_service import published, stored_events
from tests.kit import apply


def placed(app: Orders, payment_state: str | None) -> ev.ChannelOrderReceived:
    received = factories.channel_order_received(payment_state=payment_state)
    apply(app, CONSUMES, received)
    return received


@pytest.mark.parametrize(
    ("payment_state", "told"), [("paid", "paid"), ("pending", "pending"), (None, "paid")]
)
def test_order_cancelled_says_how_far_the_order_was_paid(payment_state, told):
    app = Orders()
    received = placed(app, payment_state)
    app.cancel_order(received.order_id, "customer changed their mind")
    (cancelled,) = [e for e in published(app) if isinstance(e, ev.OrderCancelled)]
    assert cancelled.payment_state == told


def refund_due(received: ev.ChannelOrderReceived, **overrides) -> ev.ChannelRefundDue:
    fields = {
        "order_id": received.order_id,
        "channel": received.channel,
        "external_id": received.external_id,
        "reason": "order cancelled: customer changed their mind",
        "payment_state": "paid",
        "amount": Decimal("49.80"),
        "currency": "EUR",
        "due_at": now_utc(),
    }
    return ev.ChannelRefundDue(**(fields | overrides))


def test_a_refund_due_is_recorded_once_for_ops():
    app = Orders()
    received = placed(app, "paid")
    app.cancel_order(received.order_id, "customer changed their mind")
    apply(app, CONSUMES, refund_due(received))
    apply(app, CONSUMES, refund_due(received))  # the same news again
    (due,) = [e for e in stored_events(app) if type(e).__name__ == "RefundDue"]
    assert (due.payment_state, due.amount) == ("paid", "49.80")
    assert "customer changed their mind" in due.reason
    assert app.get_order(received.order_id).refund_due is True
    assert published(app)[-1] is None  # ops' business: it stays on the order's timeline
