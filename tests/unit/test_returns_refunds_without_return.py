"""Refunds without a return, in memory: short picks by policy, lost parcels, goodwill, and the
Refunded events they publish."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from services.returns_service import bootstrap, integration
from services.returns_service.application import Returns
from services.returns_service.domain import (
    IdempotencyKeyReusedError,
    OrderNotRefundableError,
    OverRefundError,
    RefundQuantityError,
    RefundReason,
    ShortPickPolicy,
    short_pick_refund_id_for,
)
from shared import events as ev
from tests import factories
from tests.factories_returns_service import MUG, TEE, shipment_ref
from tests.kit import apply


def published(app: Returns, after: int = 0) -> list[ev.IntegrationEvent]:
    notifications = app.recorder.select_notifications(after + 1, 1000)
    to_integration = bootstrap.EVENTS.to_integration
    mapped = [to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [e for e in mapped if e is not None]


def refunds(app: Returns) -> list[ev.Refunded]:
    return [e for e in published(app) if isinstance(e, ev.Refunded)]


def shipped_short(order_id: UUID | None = None) -> ev.OrderShipped:
    """Two tees ordered at 24.90, one shipped and one short-picked; a mug shipped."""
    return factories.order_shipped(
        order_id,
        lines=factories.lines({TEE: 1}, "24.90") + factories.lines({MUG: 1}, "14.50"),
        shipments=[shipment_ref("WH-BER", {TEE: 1, MUG: 1})],
        short_lines=[ev.ShortLine(sku=TEE, quantity=1, paid=Decimal("24.90"))],
    )


def test_short_units_are_refunded_at_once_by_default_and_only_once():
    app = Returns()
    event = shipped_short()
    apply(app, integration.CONSUMES, event)
    apply(app, integration.CONSUMES, event)  # republished: the shipped order is known
    (refund,) = refunds(app)
    assert refund.refund_id == short_pick_refund_id_for(event.order_id)
    assert refund.return_id == refund.refund_id  # no return: the refund names itself
    assert (refund.reason, refund.refund_kind, refund.amount) == (
        "short_pick",
        "units",
        Decimal("24.90"),
    )
    assert [(line.sku, line.quantity) for line in refund.lines] == [(TEE, 1)]
    order = app.get_refundable(event.order_id)
    assert (order.short_refundable(TEE), order.refundable) == (0, Decimal("39.40"))


def test_held_short_units_wait_for_ops_to_refund_them():
    app = Returns()
    app.short_pick_policy = ShortPickPolicy.HOLD
    event = shipped_short()
    apply(app, integration.CONSUMES, event)
    assert refunds(app) == []
    assert app.get_refundable(event.order_id).short_refundable(TEE) == 1

    refund = app.refund_without_return(
        event.order_id, RefundReason.SHORT_PICK, [{"sku": TEE, "quantity": 1}]
    )
    assert (refund.amount, refund.reason, refund.kind) == ("24.90", "short_pick", "units")
    with pytest.raises(RefundQuantityError, match="short units left to refund"):
        app.refund_without_return(
            event.order_id, RefundReason.SHORT_PICK, [{"sku": TEE, "quantity": 1}]
        )


def test_an_order_shipped_without_short_units_refunds_nothing():
    app = Returns()
    apply(app, integration.CONSUMES, factories.order_shipped(quantities={TEE: 2}))
    assert refunds(app) == []


def test_a_goodwill_refund_is_published_as_money_only_with_its_reason():
    app = Returns()
    event = shipped_short()
    apply(app, integration.CONSUMES, event)
    before = app.recorder.max_notification_id() or 0
    app.refund_without_return(event.order_id, RefundReason.GOODWILL, amount=Decimal("5.00"))
    (refund,) = [e for e in published(app, before) if isinstance(e, ev.Refunded)]
    assert (refund.reason, refund.refund_kind, refund.amount) == (
        "goodwill",
        "amount",
        Decimal("5.00"),
    )
    assert sum(line.amount for line in refund.lines) == Decimal("5.00")


def test_the_same_idempotency_key_gives_the_same_refund_and_another_request_is_refused():
    app = Returns()
    event = shipped_short()
    apply(app, integration.CONSUMES, event)
    first = app.refund_without_return(
        event.order_id, RefundReason.GOODWILL, amount=Decimal("5.00"), idempotency_key="gw-1"
    )
    before = app.recorder.max_notification_id()
    again = app.refund_without_return(
        event.order_id, RefundReason.GOODWILL, amount=Decimal("5.00"), idempotency_key="gw-1"
    )
    assert again.id == first.id and app.recorder.max_notification_id() == before
    with pytest.raises(IdempotencyKeyReusedError):
        app.refund_without_return(
            event.order_id, RefundReason.GOODWILL, amount=Decimal("6.00"), idempotency_key="gw-1"
        )


def test_an_order_that_has_not_shipped_cannot_be_refunded_here():
    app = Returns()
    with pytest.raises(OrderNotRefundableError, match="has not shipped yet"):
        app.refund_without_return(uuid4(), RefundReason.GOODWILL, amount=Decimal("1.00"))


def test_returns_and_refunds_without_one_together_never_pass_what_was_paid():
    app = Returns()
    event = shipped_short()
    apply(app, integration.CONSUMES, event)  # 24.90 back for the short tee
    app.refund_without_return(event.order_id, RefundReason.GOODWILL, amount=Decimal("20.00"))
    rma = app.request_return(
        event.order_id,
        [{"sku": TEE, "quantity": 1, "reason": "x"}, {"sku": MUG, "quantity": 1, "reason": "x"}],
    )
    app.receive_return(
        rma.id,
        [
            {"sku": TEE, "quantity": 1, "condition": "sellable"},
            {"sku": MUG, "quantity": 1, "condition": "sellable"},
        ],
    )
    assert sum(r.amount for r in refunds(app)) == Decimal("64.30")  # exactly what was paid
    with pytest.raises(OverRefundError) as refused:
        app.refund_without_return(event.order_id, RefundReason.GOODWILL, amount=Decimal("0.01"))
    assert refused.value.refundable == "0.00"
