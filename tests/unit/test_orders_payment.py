"""Payment state: what may go to the warehouse, holds, payments recorded, unpaid deadlines."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.order_service.application import Orders
from services.order_service.domain import (
    Order,
    OrderCancelledError,
    OrderStatus,
    PaymentPolicies,
    PaymentPolicy,
)
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from shared import events as ev
from shared.events.base import now_utc
from shared.payments import PaymentState
from tests import factories
from tests.factories_order_service import published, stored_events
from tests.kit import apply

TEES = {"TEE": 2}


def receive(
    app: Orders, payment_state: str | None, channel: str = "web"
) -> ev.ChannelOrderReceived:
    """A channel's order in the given payment state, taken in through the consumer."""
    received = factories.channel_order_received(channel=channel, payment_state=payment_state)
    apply(app, CONSUMES, received)
    return received


def reserve(app: Orders, received: ev.ChannelOrderReceived) -> None:
    app.confirm_order(received.order_id, factories.allocations(TEES, "WH-BER"))


def confirmed_events(app: Orders) -> list[Order.Confirmed]:
    return [e for e in stored_events(app) if isinstance(e, Order.Confirmed)]


def test_a_voided_order_is_reserved_but_held_and_nothing_goes_to_the_warehouse():
    app = Orders()
    received = receive(app, "voided")
    reserve(app, received)
    order = app.get_order(received.order_id)
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.allocations[0]["location_id"] == "WH-BER"  # the stock stays reserved
    assert confirmed_events(app) == []  # OrderConfirmed is what opens a shipment
    assert not any(isinstance(e, ev.OrderConfirmed) for e in published(app))


@pytest.mark.parametrize("state", ["paid", "authorized", "cash_on_delivery", None])
def test_paid_authorized_and_cash_on_delivery_orders_go_to_the_warehouse(state):
    app = Orders()
    received = receive(app, state)
    reserve(app, received)
    assert app.get_order(received.order_id).status == OrderStatus.CONFIRMED
    assert len(confirmed_events(app)) == 1


def test_a_held_order_goes_to_the_warehouse_once_paid_with_the_stock_it_was_held_with():
    app = Orders()
    received = receive(app, "pending")
    reserve(app, received)
    app.record_payment(
        received.order_id,
        PaymentState.PAID,
        amount=Decimal("49.80"),
        reference="TRF-1",
        source="merchant",
    )
    order = app.get_order(received.order_id)
    assert order.status == OrderStatus.CONFIRMED
    assert order.payment_state == PaymentState.PAID
    assert order.payment_due_at is None  # paid: no deadline runs any more
    [confirmed] = confirmed_events(app)
    assert confirmed.allocations == factories.allocations(TEES, "WH-BER")


def test_a_payment_before_the_stock_is_reserved_lets_the_order_confirm_directly():
    app = Orders()
    received = receive(app, "pending")
    app.record_payment(received.order_id, PaymentState.PAID)
    reserve(app, received)
    assert app.get_order(received.order_id).status == OrderStatus.CONFIRMED


def test_a_partial_payment_keeps_the_order_held():
    app = Orders()
    received = receive(app, "pending")
    reserve(app, received)
    app.record_payment(received.order_id, PaymentState.PARTIALLY_PAID, amount=Decimal("10"))
    order = app.get_order(received.order_id)
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.payment_due_at is not None  # the deadline still runs


def test_the_same_payment_told_twice_is_recorded_once():
    app = Orders()
    received = receive(app, "pending")
    for _ in range(2):
        app.record_payment(received.order_id, PaymentState.PAID, reference="TRF-9")
    app.record_payment(received.order_id, PaymentState.PAID)  # nothing new either
    recorded = [e for e in stored_events(app) if isinstance(e, Order.PaymentRecorded)]
    assert len(recorded) == 1


def test_a_payment_for_a_cancelled_order_is_refused_not_recorded():
    app = Orders()
    received = receive(app, "pending")
    app.cancel_order(received.order_id, "customer changed their mind")
    with pytest.raises(OrderCancelledError):
        app.record_payment(received.order_id, PaymentState.PAID, source="merchant")
    assert app.get_order(received.order_id).payment_state == PaymentState.PENDING


def test_an_unpaid_order_gets_its_deadline_from_when_the_channel_order_was_received():
    app = Orders()
    received = receive(app, "pending")
    assert app.get_order(received.order_id).payment_due_at == received.received_at + timedelta(
        hours=72
    )
    assert receive(app, "paid").order_id  # a paid order has none
    paid = app.get_order(stored_events(app)[-1].originator_id)
    assert paid.payment_due_at is None


def test_an_unpaid_order_is_cancelled_only_after_its_deadline_and_only_if_still_unpaid():
    app = Orders()
    unpaid = receive(app, "pending")
    reserve(app, unpaid)
    paid_later = receive(app, "pending")
    reserve(app, paid_later)
    app.record_payment(paid_later.order_id, PaymentState.PAID)
    due = app.get_order(unpaid.order_id).payment_due_at
    assert due is not None
    assert not app.cancel_if_unpaid(unpaid.order_id, due - timedelta(seconds=1))
    assert app.cancel_if_unpaid(unpaid.order_id, due)
    assert not app.cancel_if_unpaid(paid_later.order_id, due + timedelta(days=1))
    assert app.get_order(unpaid.order_id).status == OrderStatus.CANCELLED
    assert app.get_order(paid_later.order_id).status == OrderStatus.CONFIRMED
    cancelled = [e for e in published(app) if isinstance(e, ev.OrderCancelled)]
    assert [c.order_id for c in cancelled] == [unpaid.order_id]  # inventory releases its stock


def test_a_channel_policy_decides_what_ships_and_how_long_unpaid_orders_wait():
    app = Orders()
    strict = PaymentPolicy(ship=frozenset({PaymentState.PAID}), cancel_unpaid_after=None)
    app.payment_policies = PaymentPolicies(channels={"woo-main": strict})
    cod = receive(app, "cash_on_delivery", channel="woo-main")
    reserve(app, cod)
    order = app.get_order(cod.order_id)
    assert order.status == OrderStatus.AWAITING_PAYMENT  # this merchant ships COD only when paid
    assert order.payment_due_at is None  # and never cancels unpaid orders by itself


def test_settings_build_per_channel_policies_over_the_default():
    settings = Settings(
        payment_policies={
            "woo-main": {"ship": ["paid"]},
            "line-shop": {"cancel_unpaid_after_hours": 0},
        },
        cancel_unpaid_after_hours=24,
    )
    policies = settings.payment()
    assert policies.of("woo-main").ship == frozenset({PaymentState.PAID})
    assert policies.of("woo-main").cancel_unpaid_after == timedelta(hours=24)
    assert policies.of("line-shop").cancel_unpaid_after is None
    assert policies.of("shopify").allows(PaymentState.AUTHORIZED)
    assert not policies.of("shopify").allows(PaymentState.VOIDED)


def test_order_placed_tells_analytics_the_payment_state_it_started_with():
    app = Orders()
    receive(app, "partially_paid")
    [placed] = [e for e in published(app) if isinstance(e, ev.OrderPlaced)]
    assert placed.payment_state == PaymentState.PARTIALLY_PAID


def test_an_order_stored_before_payment_states_loads_as_paid_and_ships():
    app = Orders()
    received = factories.channel_order_received(received_at=now_utc())
    apply(app, CONSUMES, received)  # no payment_state: as every order before them
    reserve(app, received)
    order = app.get_order(received.order_id)
    assert order.payment_state == PaymentState.PAID
    assert order.status == OrderStatus.CONFIRMED


def test_the_channels_payment_news_for_a_cancelled_order_is_kept_on_its_timeline():
    app = Orders()
    received = receive(app, "pending")
    app.cancel_order(received.order_id, "cancelled at the channel")
    news = ev.ChannelPaymentChanged(
        order_id=received.order_id,
        channel=received.channel,
        external_id=received.external_id,
        payment_state=PaymentState.REFUNDED,
        reference="evt-1",
        changed_at=now_utc(),
    )
    apply(app, CONSUMES, news)  # never a parked message: the news is a fact to keep
    order = app.get_order(received.order_id)
    assert (order.status, order.payment_state) == (OrderStatus.CANCELLED, PaymentState.REFUNDED)


def test_the_channel_saying_paid_releases_a_held_order_once_however_often_it_says_it():
    app = Orders()
    received = receive(app, "pending")
    reserve(app, received)
    news = ev.ChannelPaymentChanged(
        order_id=received.order_id,
        channel=received.channel,
        external_id=received.external_id,
        payment_state=PaymentState.PAID,
        reference="evt-2",
        changed_at=now_utc(),
    )
    apply(app, CONSUMES, news)
    apply(app, CONSUMES, news)  # redelivered
    assert app.get_order(received.order_id).status == OrderStatus.CONFIRMED
    assert len(confirmed_events(app)) == 1


def test_an_order_placed_paid_then_voided_while_backordered_is_held_with_a_deadline():
    # Placed authorized (no deadline), voided at the channel while waiting for stock: held when
    # the stock comes, and its stock must not stay reserved for ever.
    app = Orders()
    received = receive(app, "authorized")
    app.backorder_order(received.order_id, [{"sku": "TEE", "requested": 2, "available": 0}])
    app.record_payment(received.order_id, PaymentState.VOIDED)
    voided = app.get_order(received.order_id)
    assert voided.payment_due_at is not None  # the deadline starts when the payment goes
    reserve(app, received)
    held = app.get_order(received.order_id)
    assert held.status == OrderStatus.AWAITING_PAYMENT
    assert held.payment_due_at == voided.payment_due_at
    assert app.cancel_if_unpaid(received.order_id, held.payment_due_at)


def test_an_order_held_under_a_stricter_policy_gets_a_deadline_from_when_it_is_held():
    app = Orders()
    received = receive(app, "cash_on_delivery")  # shippable by default: no deadline at placement
    app.payment_policies = PaymentPolicies(
        default=PaymentPolicy(ship=frozenset({PaymentState.PAID}))
    )
    reserve(app, received)
    order = app.get_order(received.order_id)
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.payment_due_at is not None


def test_a_recorded_amount_is_kept_in_the_currency_s_minor_units():
    app = Orders()
    received = receive(app, "pending")
    app.record_payment(received.order_id, PaymentState.PAID, amount=Decimal("1E+2"))
    [recorded] = [e for e in stored_events(app) if isinstance(e, Order.PaymentRecorded)]
    assert recorded.amount == "100.00"
