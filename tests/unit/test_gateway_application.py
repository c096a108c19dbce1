"""The ChannelOrders application: idempotent intake, the public event, and the OMS's news."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from services.channel_gateway import integration
from services.channel_gateway.application import ChannelOrders, Translation
from services.channel_gateway.bootstrap import events
from services.channel_gateway.domain import (
    ChannelOrderNotFoundError,
    ChannelOrderStatus,
    OrderNotHeldError,
    OrderStillHeldError,
    order_id_for,
)
from shared import events as ev
from shared.runtime.application import UnitOfWork
from tests import factories
from tests.factories_channel_gateway import canonical_order
from tests.factories_channel_gateway import refunded as refunded_for
from tests.kit import apply

EVENTS = events()


@pytest.fixture
def app() -> ChannelOrders:
    return ChannelOrders()


@pytest.fixture
def order_id(app: ChannelOrders) -> UUID:
    return app.intake.receive_order(**canonical_order()).order_id


def stored_events(app: ChannelOrders) -> int:
    return app.recorder.max_notification_id() or 0


def shipped(order_id: UUID, shipment_id: UUID | None = None) -> ev.Shipped:
    return factories.shipped(
        order_id,
        {"TEE-ORG-BLK-M": 2},
        shipment_id=shipment_id or uuid4(),
        carrier="DHL",
        tracking_number="JJD0001",
        shipped_at=factories.AT,
    )


def cancelled(order_id: UUID) -> ev.OrderCancelled:
    return factories.order_cancelled(
        order_id, channel="shopify", external_id="5829104713893", cancelled_at=factories.AT
    )


def refunded(order_id: UUID, refund_id: UUID | None = None) -> ev.Refunded:
    return refunded_for(
        order_id, "TEE-ORG-BLK-M", "24.90", refund_id=refund_id or uuid4(), refunded_at=factories.AT
    )


def test_the_same_order_twice_gets_the_same_id_and_is_recorded_once(app: ChannelOrders) -> None:
    first = app.intake.receive_order(**canonical_order())
    second = app.intake.receive_order(**canonical_order())

    assert first.created is True
    assert second.created is False
    assert first.order_id == second.order_id == order_id_for("shopify", "5829104713893")
    assert second.status == "accepted"
    assert stored_events(app) == 1


def test_the_same_external_id_on_another_channel_is_another_order(app: ChannelOrders) -> None:
    first = app.intake.receive_order(**canonical_order())
    other = app.intake.receive_order(**canonical_order(channel="woocommerce"))

    assert other.created is True
    assert other.order_id != first.order_id
    assert stored_events(app) == 2


def test_a_received_order_is_published_whole_as_channel_order_received(
    app: ChannelOrders, order_id: UUID
) -> None:
    (received,) = list(app.events.get(order_id))

    public = EVENTS.to_integration(received)

    assert isinstance(public, ev.ChannelOrderReceived)
    assert public.order_id == order_id
    assert public.received_at == received.timestamp
    expected = {**canonical_order(), "order_id": str(order_id)}
    data = public.to_data()
    del data["received_at"]
    assert data == expected


def test_the_facts_reported_back_have_no_public_event(app: ChannelOrders, order_id: UUID) -> None:
    apply(app, integration.CONSUMES, shipped(order_id), cancelled(order_id), refunded(order_id))

    later = list(app.events.get(order_id))[1:]

    assert len(later) == 3
    assert [EVENTS.to_integration(e) for e in later] == [None, None, None]


def test_a_shipment_is_kept_with_its_carrier_and_tracking_number(
    app: ChannelOrders, order_id: UUID
) -> None:
    apply(app, integration.CONSUMES, shipped(order_id))

    (shipment,) = app.orders.get(order_id).shipments
    assert shipment["carrier"] == "DHL"
    assert shipment["tracking_number"] == "JJD0001"
    assert shipment["shipped_at"] == "2026-11-29T10:00:00Z"
    assert shipment["lines"] == [{"sku": "TEE-ORG-BLK-M", "quantity": 2}]


def test_a_cancellation_and_refunds_are_recorded_on_the_order(
    app: ChannelOrders, order_id: UUID
) -> None:
    apply(app, integration.CONSUMES, cancelled(order_id), refunded(order_id), refunded(order_id))

    order = app.orders.get(order_id)
    assert order.status == ChannelOrderStatus.CANCELLED
    assert order.cancellation is not None
    assert order.cancellation["reason"] == "customer changed their mind"
    assert order.refunded_total == Decimal("49.80")


def test_redelivered_events_change_nothing(app: ChannelOrders, order_id: UUID) -> None:
    events = [shipped(order_id, uuid4()), cancelled(order_id), refunded(order_id, uuid4())]
    apply(app, integration.CONSUMES, *events)
    before = stored_events(app)

    apply(app, integration.CONSUMES, *events)
    apply(app, integration.CONSUMES, events[0], events[0])

    assert stored_events(app) == before
    order = app.orders.get(order_id)
    assert len(order.shipments) == 1
    assert order.refunded_total == Decimal("24.90")


def test_news_about_an_order_the_gateway_never_received_is_ignored(app: ChannelOrders) -> None:
    unknown = uuid4()

    apply(app, integration.CONSUMES, shipped(unknown), cancelled(unknown), refunded(unknown))

    assert stored_events(app) == 0
    with pytest.raises(ChannelOrderNotFoundError):
        app.orders.get(unknown)


def test_intake_inside_a_callers_unit_of_work_is_saved_by_the_caller(app: ChannelOrders) -> None:
    uow = UnitOfWork(app)
    intake = app.intake.receive_order(**canonical_order(), uow=uow)
    assert stored_events(app) == 0

    uow.commit()

    assert app.orders.get(intake.order_id).external_id == "5829104713893"


def test_the_gateways_event_tables_decide_for_every_event_it_stores_consumes_and_projects():
    EVENTS.check()


class Retranslation:
    """The channels as the release use case sees them: what a payload translates to now."""

    def __init__(self, translation: Translation) -> None:
        self.translation = translation

    def retranslate(self, channel: str, external_id: str, payload: dict) -> Translation:
        return self.translation


def test_a_held_order_is_released_once_it_translates_whole_and_only_then(app: ChannelOrders):
    payload = {"id": 7, "line_items": [{"sku": "SHOP-NEW"}]}
    held = Translation("shopify", "7", payload, reasons=["unknown SKU SHOP-NEW"])
    order_id = app.intake.take_in_one(held).order_id
    whole = Translation("shopify", "7", payload, order=canonical_order_fields())

    with pytest.raises(OrderStillHeldError, match="unknown SKU SHOP-NEW") as still:
        app.orders.release(order_id, Retranslation(held))
    released = app.orders.release(order_id, Retranslation(whole))
    with pytest.raises(OrderNotHeldError):
        app.orders.release(order_id, Retranslation(whole))

    assert still.value.reasons == ["unknown SKU SHOP-NEW"]
    assert released.status == "accepted" and released.order_id == order_id
    assert [type(e).__name__ for e in app.events.get(order_id)] == ["Held", "Released"]


def canonical_order_fields() -> dict:
    order = canonical_order()
    return {k: order[k] for k in ("customer", "shipping_address", "lines", "currency")}
