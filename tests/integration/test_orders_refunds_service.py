"""The money of a cancelled or short order on PostgreSQL: a paid cancel tells its payment state,
a refund no channel can make shows on the timeline as an exception, and the units that did not
ship go out with what was paid for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from services.order_service.bootstrap import build
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from shared import events as ev
from shared.runtime.service import ServiceParts
from tests import factories
from tests.factories_order_service import published
from tests.kit import apply

pytestmark = pytest.mark.integration


@pytest.fixture
def service(new_database: Callable[..., str]) -> Iterator[ServiceParts]:
    parts = build(Settings(database_url=new_database("orders")))
    yield parts
    parts.close()


def test_a_paid_own_channel_order_cancelled_shows_the_refund_due_for_ops(service: ServiceParts):
    received = factories.channel_order_received(payment_state="paid")
    apply(service.app, CONSUMES, received)
    http = TestClient(service.api_factory({}))
    answer = http.post(f"/v1/orders/{received.order_id}/cancel", json={"reason": "out of stock"})
    assert answer.status_code == 202, answer.text
    (cancelled,) = [e for e in published(service.app) if isinstance(e, ev.OrderCancelled)]
    assert cancelled.payment_state == "paid"

    due = ev.ChannelRefundDue(
        order_id=received.order_id,
        channel=received.channel,
        external_id=received.external_id,
        reason="order cancelled: out of stock",
        payment_state="paid",
        amount=Decimal("49.80"),
        currency="EUR",
        due_at=ev.now_utc(),
    )
    apply(service.app, CONSUMES, due)
    apply(service.app, CONSUMES, due)  # the same news again: one exception
    service.projections[0].catch_up()
    order = http.get(f"/v1/orders/{received.order_id}").json()
    assert order["status"] == "cancelled"
    exceptions = [t for t in order["timeline"] if t["detail"].get("exception")]
    assert [(t["event"], t["detail"]["exception"]) for t in exceptions] == [
        ("RefundDue", "refund_due")
    ]
    assert (exceptions[0]["detail"]["amount"], exceptions[0]["detail"]["payment_state"]) == (
        "49.80",
        "paid",
    )
    (entry,) = [t for t in order["timeline"] if t["event"] == "Cancelled"]
    assert entry["detail"]["payment_state"] == "paid"


def test_the_short_units_and_what_was_paid_for_them_are_on_the_timeline(service: ServiceParts):
    received = factories.channel_order_received(
        lines=[{"sku": "TEE", "quantity": 3, "unit_price": "10.00", "paid": "20.00"}]
    )
    apply(service.app, CONSUMES, received)
    order_id, shipment_id = received.order_id, uuid4()
    service.app.confirm_order(order_id, factories.allocations({"TEE": 3}, "WH"))
    short = ev.ShortPicked(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id="WH",
        pick_list_id=uuid4(),
        lines=[{"sku": "TEE", "bin": "A-03-2", "expected": 3, "picked": 2}],
        short_at=ev.now_utc(),
    )
    apply(service.app, CONSUMES, short)
    apply(service.app, CONSUMES, factories.shipped(order_id, {"TEE": 2}, shipment_id=shipment_id))
    service.projections[0].catch_up()
    order = TestClient(service.api_factory({})).get(f"/v1/orders/{order_id}").json()
    (shipped,) = [t for t in order["timeline"] if t["event"] == "Shipped"]
    assert shipped["detail"]["short_lines"] == [{"sku": "TEE", "quantity": 1, "paid": "6.67"}]
    assert shipped["detail"]["lines"][0]["paid"] == "13.33"
