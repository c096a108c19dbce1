"""A buyer's cancellation request at the channel (Shopee IN_CANCEL): answered by policy or ops."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.order_service.application import Orders
from services.order_service.domain import (
    CancelRequestPolicy,
    NoCancelRequestError,
    Order,
    OrderNotCancellableError,
    OrderStatus,
)
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from shared import events as ev
from shared.events.base import now_utc
from tests import factories
from tests.factories_order_service import published, stored_events
from tests.kit import apply


def received(app: Orders) -> ev.ChannelOrderReceived:
    order = factories.channel_order_received(channel="shopee-sg")
    apply(app, CONSUMES, order)
    app.confirm_order(order.order_id, factories.allocations({"TEE": 2}, "WH"))
    return order


def request(order: ev.ChannelOrderReceived, ref: str = "IN_CANCEL:1") -> ev.ChannelCancelRequested:
    return ev.ChannelCancelRequested(
        order_id=order.order_id,
        channel=order.channel,
        external_id=order.external_id,
        reason="the buyer asked Shopee to cancel",
        reference=ref,
        requested_at=now_utc(),
    )


def answers(app: Orders) -> list[ev.OrderCancelRequestAnswered]:
    return [e for e in published(app) if isinstance(e, ev.OrderCancelRequestAnswered)]


def picking_started(order: ev.ChannelOrderReceived) -> ev.PickingStarted:
    return ev.PickingStarted(
        order_id=order.order_id,
        shipment_id=uuid4(),
        pick_list_id=uuid4(),
        location_id="WH",
        started_at=now_utc(),
    )


def test_a_request_before_picking_is_accepted_once_and_cancels_the_order_after_the_answer():
    app = Orders()
    order = received(app)
    apply(app, CONSUMES, request(order))
    apply(app, CONSUMES, request(order))  # Shopee pushed it again
    assert app.get_order(order.order_id).status == OrderStatus.CANCELLED
    [answer] = answers(app)
    assert (answer.accepted, answer.reference) == (True, "IN_CANCEL:1")
    assert answer.answered_by == "policy"
    kinds = [type(e) for e in published(app) if e is not None]
    # The gateway learns the answer before the cancel, so it sends no second cancel to Shopee.
    assert kinds[-2:] == [ev.OrderCancelRequestAnswered, ev.OrderCancelled]


def test_a_request_once_picking_started_is_refused_saying_why_and_the_order_goes_on():
    app = Orders()
    order = received(app)
    started = picking_started(order)
    apply(app, CONSUMES, started)
    apply(app, CONSUMES, request(order))
    assert app.get_order(order.order_id).status == OrderStatus.CONFIRMED
    [answer] = answers(app)
    assert not answer.accepted
    assert answer.why == f"picking started on shipment {started.shipment_id}"
    assert not any(isinstance(e, ev.OrderCancelled) for e in published(app))


def test_a_request_after_shipping_is_refused():
    app = Orders()
    order = received(app)
    apply(app, CONSUMES, factories.shipped(order.order_id, {"TEE": 2}))
    apply(app, CONSUMES, request(order))
    [answer] = answers(app)
    assert (answer.accepted, answer.why) == (False, "the order is shipped")


def test_under_the_ops_policy_a_request_is_held_as_an_exception_until_ops_answer():
    app = Orders()
    app.cancel_request_policies = {"shopee-sg": CancelRequestPolicy.OPS}
    order = received(app)
    apply(app, CONSUMES, request(order))
    apply(app, CONSUMES, request(order))
    assert app.get_order(order.order_id).status == OrderStatus.CONFIRMED
    assert len([e for e in stored_events(app) if isinstance(e, Order.CancelRequestHeld)]) == 1
    assert answers(app) == []

    app.answer_cancel_request(order.order_id, accept=False, by="ops", why="made to order")
    [answer] = answers(app)
    assert (answer.accepted, answer.why, answer.answered_by) == (False, "made to order", "ops")
    with pytest.raises(NoCancelRequestError):  # answered: nothing waits any more
        app.answer_cancel_request(order.order_id, accept=True, by="ops")


def test_ops_cannot_accept_a_request_once_picking_started_and_can_accept_before():
    app = Orders()
    app.cancel_request_policy = CancelRequestPolicy.OPS
    picked, fresh = received(app), received(app)
    apply(app, CONSUMES, picking_started(picked))
    apply(app, CONSUMES, request(picked))
    apply(app, CONSUMES, request(fresh))
    with pytest.raises(OrderNotCancellableError):
        app.answer_cancel_request(picked.order_id, accept=True, by="ops")
    app.answer_cancel_request(fresh.order_id, accept=True, by="ops")
    assert app.get_order(fresh.order_id).status == OrderStatus.CANCELLED
    assert [(a.order_id, a.accepted) for a in answers(app)] == [(fresh.order_id, True)]


def test_cancelling_an_order_with_a_request_held_for_ops_accepts_the_request():
    app = Orders()
    app.cancel_request_policy = CancelRequestPolicy.OPS
    order = received(app)
    apply(app, CONSUMES, request(order))
    app.cancel_order(order.order_id, "customer called")
    [answer] = answers(app)
    assert (answer.accepted, answer.answered_by) == (True, "cancel")


def test_settings_name_the_policy_per_channel():
    settings = Settings(cancel_request_policies={"shopee-sg": "ops"})
    assert settings.cancel_requests == CancelRequestPolicy.AUTO
    assert settings.cancel_request_policies["shopee-sg"] == CancelRequestPolicy.OPS
