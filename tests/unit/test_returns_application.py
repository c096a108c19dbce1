"""Returns application, in memory: RMAs, receipts, refunds and the events they publish."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from services.returns_service import bootstrap, integration
from services.returns_service.application import Returns
from services.returns_service.domain import (
    IdempotencyKeyReusedError,
    OrderNotReturnableError,
    ReceiveQuantityError,
    ReturnNotFoundError,
    ReturnQuantityError,
    ShippingRefundRule,
    SkuNotShippedError,
    refund_id_for,
)
from shared import events as ev
from tests.factories_returns_service import MUG, TEE, order_shipped_from_two_locations
from tests.kit import apply


def ask(sku: str, quantity: int, reason: str = "does not fit") -> dict:
    return {"sku": sku, "quantity": quantity, "reason": reason}


def got(sku: str, quantity: int, condition: str = "sellable") -> dict:
    return {"sku": sku, "quantity": quantity, "condition": condition}


def published(app: Returns, after: int = 0) -> list[ev.IntegrationEvent]:
    """The integration events the relay would publish for what is stored after a position."""
    notifications = app.recorder.select_notifications(after + 1, 1000)
    to_integration = bootstrap.EVENTS.to_integration
    mapped = [to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [e for e in mapped if e is not None]


def last_position(app: Returns) -> int:
    return app.recorder.max_notification_id() or 0


@pytest.fixture
def app() -> Returns:
    return Returns()


@pytest.fixture
def order_id(app: Returns) -> UUID:
    event = order_shipped_from_two_locations()
    apply(app, integration.CONSUMES, event)
    return event.order_id


def test_a_redelivered_order_shipped_changes_nothing(app: Returns):
    event = order_shipped_from_two_locations()
    apply(app, integration.CONSUMES, event)
    app.request_return(event.order_id, [ask(TEE, 2)])
    before = last_position(app)
    apply(app, integration.CONSUMES, event)
    assert last_position(app) == before
    assert app.get_shipped_order(event.order_id).returnable(TEE) == 0


def test_an_order_that_has_not_shipped_is_not_returnable_and_nothing_is_recorded(app: Returns):
    with pytest.raises(OrderNotReturnableError):
        app.request_return(uuid4(), [ask(TEE, 1)])
    assert last_position(app) == 0


def test_a_return_publishes_return_requested_with_its_lines(app: Returns, order_id: UUID):
    before = last_position(app)
    rma = app.request_return(order_id, [ask(TEE, 1, "too small")])
    [requested] = published(app, before)
    assert isinstance(requested, ev.ReturnRequested)
    assert (requested.return_id, requested.order_id) == (rma.id, order_id)
    assert [line.model_dump() for line in requested.lines] == [ask(TEE, 1, "too small")]


def test_returnable_quantities_hold_across_two_returns(app: Returns, order_id: UUID):
    app.request_return(order_id, [ask(TEE, 1)])
    before = last_position(app)
    with pytest.raises(ReturnQuantityError) as refused:
        app.request_return(order_id, [ask(TEE, 2)])
    assert refused.value.details() == {"sku": TEE, "returnable": 1}
    assert last_position(app) == before
    app.request_return(order_id, [ask(TEE, 1)])
    with pytest.raises(ReturnQuantityError):
        app.request_return(order_id, [ask(TEE, 1)])


def test_a_sku_not_shipped_is_refused_and_nothing_is_recorded(app: Returns, order_id: UUID):
    before = last_position(app)
    with pytest.raises(SkuNotShippedError):
        app.request_return(order_id, [ask(MUG, 1), ask("SOCK-1", 1)])
    assert last_position(app) == before
    assert app.get_shipped_order(order_id).returnable(MUG) == 1


def test_a_retried_request_with_the_same_key_returns_the_same_return(app: Returns, order_id):
    first = app.request_return(order_id, [ask(TEE, 1)], idempotency_key="rma-1")
    before = last_position(app)
    again = app.request_return(order_id, [ask(TEE, 1)], idempotency_key="rma-1")
    assert again.id == first.id
    assert last_position(app) == before
    assert app.get_shipped_order(order_id).returnable(TEE) == 1


def test_a_key_reused_for_a_different_request_is_refused(app: Returns, order_id: UUID):
    app.request_return(order_id, [ask(TEE, 1)], idempotency_key="rma-1")
    before = last_position(app)
    with pytest.raises(IdempotencyKeyReusedError):
        app.request_return(order_id, [ask(TEE, 2)], idempotency_key="rma-1")
    assert last_position(app) == before


def test_receiving_units_refunds_the_price_paid_in_the_order_currency(app: Returns, order_id):
    rma = app.request_return(order_id, [ask(TEE, 2)])
    before = last_position(app)
    rma = app.receive_return(rma.id, [got(TEE, 2)])
    received, refunded = published(app, before)
    assert isinstance(received, ev.ReturnReceived)
    assert [line.model_dump() for line in received.lines] == [
        {"sku": TEE, "quantity": 2, "condition": "sellable", "location_id": "WH-BER"}
    ]
    assert isinstance(refunded, ev.Refunded)
    assert refunded.refund_id == refund_id_for(rma.id, 1)
    assert (refunded.amount, refunded.currency) == (Decimal("49.80"), "EUR")
    assert refunded.to_data()["amount"] == "49.80"
    assert [line.model_dump(mode="json") for line in refunded.lines] == [
        {"sku": TEE, "quantity": 2, "amount": "49.80"}
    ]
    assert rma.status == "received"


def test_damaged_units_are_refunded_but_flagged_damaged(app: Returns, order_id: UUID):
    rma = app.request_return(order_id, [ask(TEE, 1), ask(MUG, 1, "arrived broken")])
    before = last_position(app)
    app.receive_return(rma.id, [got(TEE, 1), got(MUG, 1, "damaged")])
    received, refunded = published(app, before)
    assert {(line.sku, line.condition, line.location_id) for line in received.lines} == {
        (TEE, "sellable", "WH-BER"),
        (MUG, "damaged", "WH-HAM"),
    }
    assert refunded.amount == Decimal("39.40")


def test_partial_receipts_refund_each_parcel_once(app: Returns, order_id: UUID):
    rma = app.request_return(order_id, [ask(TEE, 2)])
    app.receive_return(rma.id, [got(TEE, 1)])
    assert app.get_return(rma.id).status == "partially_received"
    app.receive_return(rma.id, [got(TEE, 1)])
    rma = app.get_return(rma.id)
    assert rma.status == "received"
    assert [(r["sequence"], r["amount"]) for r in rma.refunds] == [(1, "24.90"), (2, "24.90")]
    assert len({r["refund_id"] for r in rma.refunds}) == 2


def test_receiving_more_than_requested_is_refused_and_nothing_recorded(app: Returns, order_id):
    rma = app.request_return(order_id, [ask(TEE, 1)])
    app.receive_return(rma.id, [got(TEE, 1)])
    before = last_position(app)
    with pytest.raises(ReceiveQuantityError) as refused:
        app.receive_return(rma.id, [got(TEE, 1)])
    assert refused.value.details() == {"sku": TEE, "receivable": 0}
    assert last_position(app) == before


def test_a_retried_receipt_with_the_same_key_records_nothing(app: Returns, order_id: UUID):
    rma = app.request_return(order_id, [ask(TEE, 2)])
    app.receive_return(rma.id, [got(TEE, 1)], idempotency_key="parcel-1")
    before = last_position(app)
    rma = app.receive_return(rma.id, [got(TEE, 1)], idempotency_key="parcel-1")
    assert last_position(app) == before
    assert len(rma.refunds) == 1
    with pytest.raises(IdempotencyKeyReusedError):
        app.receive_return(rma.id, [got(TEE, 2)], idempotency_key="parcel-1")


def test_an_unknown_return_cannot_be_received(app: Returns):
    with pytest.raises(ReturnNotFoundError):
        app.receive_return(uuid4(), [got(TEE, 1)])
    assert last_position(app) == 0


def test_refunds_of_an_order_never_exceed_what_was_paid(app: Returns):
    event = order_shipped_from_two_locations().model_copy(
        update={"lines": [ev.OrderLine(sku=TEE, quantity=2, unit_price=Decimal("0.335"))]}
    )
    apply(app, integration.CONSUMES, event)
    first = app.request_return(event.order_id, [ask(TEE, 1)])
    second = app.request_return(event.order_id, [ask(TEE, 1)])
    app.receive_return(first.id, [got(TEE, 1)])
    app.receive_return(second.id, [got(TEE, 1)])
    refunds = [e for e in published(app) if isinstance(e, ev.Refunded)]
    # Half of 0.67 paid, cut down, then the rest: never 2 x 0.34 on 0.67 paid.
    assert [str(r.amount) for r in refunds] == ["0.33", "0.34"]
    assert app.get_return(first.id).refunds[0]["capped"] is True


@pytest.mark.parametrize(("rule", "shipping"), [("full_return", Decimal("4.90")), ("never", None)])
def test_the_return_of_every_unit_refunds_shipping_by_the_rule(rule: str, shipping):
    app = Returns()
    app.shipping_refund_rule = ShippingRefundRule(rule)
    shipped = order_shipped_from_two_locations().model_copy(
        update={"shipping_paid": Decimal("4.90")}
    )
    apply(app, integration.CONSUMES, shipped)
    rma = app.request_return(shipped.order_id, [ask(TEE, 2), ask(MUG, 1)])
    app.receive_return(rma.id, [got(TEE, 1)])
    before = last_position(app)

    app.receive_return(rma.id, [got(TEE, 1), got(MUG, 1)])

    refunded = [e for e in published(app, before) if isinstance(e, ev.Refunded)]
    assert [r.shipping for r in refunded] == [shipping]
    assert refunded[0].amount == Decimal("24.90") + Decimal("14.50") + (shipping or 0)
