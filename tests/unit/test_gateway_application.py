"""The ChannelOrders application: idempotent intake, the public event, and the OMS's news."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.channel_gateway import integration
from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.domain import CANCELLED, ChannelOrderNotFoundError, order_id_for
from shared import events as ev
from shared.runtime.application import UnitOfWork

AT = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def canonical(**overrides: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "channel": "shopify",
        "external_id": "5829104713893",
        "customer": {"name": "Lena Hoffmann", "email": "lena.hoffmann@example.de"},
        "shipping_address": {
            "name": "Lena Hoffmann",
            "line1": "Bergmannstraße 42",
            "line2": "Hinterhaus, 3. OG",
            "city": "Berlin",
            "postal_code": "10961",
            "country": "DE",
        },
        "lines": [
            {"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90"},
            {"sku": "MUG-ENM-350-WHT", "quantity": 1, "unit_price": "14.50"},
        ],
        "currency": "EUR",
    }
    return {**order, **overrides}


@pytest.fixture
def app() -> ChannelOrders:
    return ChannelOrders()


@pytest.fixture
def order_id(app: ChannelOrders) -> UUID:
    return app.receive_order(**canonical()).order_id


def stored_events(app: ChannelOrders) -> int:
    return app.recorder.max_notification_id() or 0


def shipped(order_id: UUID, shipment_id: UUID | None = None) -> ev.Shipped:
    return ev.Shipped(
        shipment_id=shipment_id or uuid4(),
        order_id=order_id,
        location_id="berlin",
        carrier="DHL",
        tracking_number="JJD0001",
        lines=[ev.ItemQuantity(sku="TEE-ORG-BLK-M", quantity=2)],
        shipped_at=AT,
    )


def cancelled(order_id: UUID) -> ev.OrderCancelled:
    return ev.OrderCancelled(
        order_id=order_id,
        channel="shopify",
        external_id="5829104713893",
        reason="customer changed their mind",
        cancelled_at=AT,
    )


def refunded(order_id: UUID, refund_id: UUID | None = None) -> ev.Refunded:
    return ev.Refunded(
        refund_id=refund_id or uuid4(),
        return_id=uuid4(),
        order_id=order_id,
        amount=Decimal("24.90"),
        currency="EUR",
        lines=[ev.RefundLine(sku="TEE-ORG-BLK-M", quantity=1, amount=Decimal("24.90"))],
        refunded_at=AT,
    )


def apply(app: ChannelOrders, *events: ev.IntegrationEvent) -> None:
    """What the consumer does with one batch: every handler in one unit of work."""
    uow = UnitOfWork(app)
    for event in events:
        integration.HANDLERS[type(event)](app, event, uow)
    uow.commit()


def test_the_same_order_twice_gets_the_same_id_and_is_recorded_once(app: ChannelOrders) -> None:
    first = app.receive_order(**canonical())
    second = app.receive_order(**canonical())

    assert first.created is True
    assert second.created is False
    assert first.order_id == second.order_id == order_id_for("shopify", "5829104713893")
    assert second.status == "accepted"
    assert stored_events(app) == 1


def test_the_same_external_id_on_another_channel_is_another_order(app: ChannelOrders) -> None:
    first = app.receive_order(**canonical())
    other = app.receive_order(**canonical(channel="woocommerce"))

    assert other.created is True
    assert other.order_id != first.order_id
    assert stored_events(app) == 2


def test_a_received_order_is_published_whole_as_channel_order_received(
    app: ChannelOrders, order_id: UUID
) -> None:
    (received,) = list(app.events.get(order_id))

    public = integration.to_integration(received)

    assert isinstance(public, ev.ChannelOrderReceived)
    assert public.order_id == order_id
    assert public.received_at == received.timestamp
    expected = {**canonical(), "order_id": str(order_id)}
    assert public.model_dump(mode="json", exclude={"received_at"}) == expected


def test_the_facts_reported_back_have_no_public_event(app: ChannelOrders, order_id: UUID) -> None:
    apply(app, shipped(order_id), cancelled(order_id), refunded(order_id))

    later = list(app.events.get(order_id))[1:]

    assert len(later) == 3
    assert [integration.to_integration(e) for e in later] == [None, None, None]


def test_a_shipment_is_kept_with_its_carrier_and_tracking_number(
    app: ChannelOrders, order_id: UUID
) -> None:
    apply(app, shipped(order_id))

    (shipment,) = app.get_order(order_id).shipments
    assert shipment["carrier"] == "DHL"
    assert shipment["tracking_number"] == "JJD0001"
    assert shipment["shipped_at"] == "2026-11-29T10:00:00Z"
    assert shipment["lines"] == [{"sku": "TEE-ORG-BLK-M", "quantity": 2}]


def test_a_cancellation_and_refunds_are_recorded_on_the_order(
    app: ChannelOrders, order_id: UUID
) -> None:
    apply(app, cancelled(order_id), refunded(order_id), refunded(order_id))

    order = app.get_order(order_id)
    assert order.status == CANCELLED
    assert order.cancellation is not None
    assert order.cancellation["reason"] == "customer changed their mind"
    assert order.refunded_total == Decimal("49.80")


def test_redelivered_events_change_nothing(app: ChannelOrders, order_id: UUID) -> None:
    events = [shipped(order_id, uuid4()), cancelled(order_id), refunded(order_id, uuid4())]
    apply(app, *events)
    before = stored_events(app)

    apply(app, *events)
    apply(app, events[0], events[0])

    assert stored_events(app) == before
    order = app.get_order(order_id)
    assert len(order.shipments) == 1
    assert order.refunded_total == Decimal("24.90")


def test_news_about_an_order_the_gateway_never_received_is_ignored(app: ChannelOrders) -> None:
    unknown = uuid4()

    apply(app, shipped(unknown), cancelled(unknown), refunded(unknown))

    assert stored_events(app) == 0
    with pytest.raises(ChannelOrderNotFoundError):
        app.get_order(unknown)


def test_intake_inside_a_callers_unit_of_work_is_saved_by_the_caller(app: ChannelOrders) -> None:
    uow = UnitOfWork(app)
    intake = app.receive_order(**canonical(), uow=uow)
    assert stored_events(app) == 0

    uow.commit()

    assert app.get_order(intake.order_id).external_id == "5829104713893"
