"""The channel gateway on PostgreSQL: intake over HTTP, the OMS's news consumed and queried."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from fastapi.testclient import TestClient

from services.channel_gateway.bootstrap import GatewayParts, build, events
from services.channel_gateway.domain import order_id_for
from services.channel_gateway.settings import Settings
from shared import events as ev
from shared.events import topics
from shared.events.codec import encode
from tests import factories
from tests.factories_channel_gateway import canonical_order, refunded
from tests.fakes.harness import SECRETS_KEY, consumed, deliveries, run_gateway
from tests.kit import RunningService, eventually

pytestmark = pytest.mark.integration
EVENTS = events()


class Gateway:
    """The service built in-process: its HTTP API (no broker) and its projection."""

    def __init__(self, parts: GatewayParts) -> None:
        self.parts = parts
        self.app = parts.app
        self.http = TestClient(parts.api_factory({}))
        self.projection = parts.projections[0]

    def stored(self) -> int:
        return self.app.recorder.max_notification_id() or 0


@pytest.fixture(scope="module")
def gateway(new_database: Any) -> Iterator[Gateway]:
    parts = build(Settings(database_url=new_database("gateway"), secrets_keys=SECRETS_KEY))
    yield Gateway(parts)
    parts.close()


def canonical(external_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A canonical order as a client may write it: country in lower case, a price as a number."""
    order = canonical_order(
        external_id=external_id or uuid.uuid4().hex,
        shipping_address=canonical_order()["shipping_address"] | {"country": "de"},
        lines=[
            {"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90"},
            {"sku": "MUG-ENM-350-WHT", "quantity": 1, "unit_price": 14.5},
        ],
    )
    return order | overrides


def test_a_new_order_is_accepted_and_the_same_order_again_answers_200_with_the_same_body(
    gateway: Gateway,
) -> None:
    order = canonical()
    before = gateway.stored()

    first = gateway.http.post("/v1/orders", json=order)
    again = gateway.http.post("/v1/orders", json=order)

    order_id = order_id_for("shopify", order["external_id"])
    assert first.status_code == 202
    assert first.json() == {"order_id": str(order_id), "status": "accepted"}
    assert first.headers["location"] == f"/v1/channel-orders/{order_id}"
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert gateway.stored() == before + 1


def test_the_same_order_posted_concurrently_is_recorded_once(gateway: Gateway) -> None:
    order = canonical()
    before = gateway.stored()

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: gateway.http.post("/v1/orders", json=order), range(8)))

    assert sorted(r.status_code for r in codes) == [200] * 7 + [202]
    assert len({r.json()["order_id"] for r in codes}) == 1
    assert gateway.stored() == before + 1


def test_an_accepted_order_is_published_as_channel_order_received_in_canonical_form(
    gateway: Gateway,
) -> None:
    order = canonical()
    order_id = gateway.http.post("/v1/orders", json=order).json()["order_id"]

    (received,) = list(gateway.app.events.get(uuid.UUID(order_id)))
    public = EVENTS.to_integration(received)

    assert isinstance(public, ev.ChannelOrderReceived)
    assert public.shipping_address.country == "DE"
    assert [(line.sku, str(line.unit_price)) for line in public.lines] == [
        ("TEE-ORG-BLK-M", "24.90"),
        ("MUG-ENM-350-WHT", "14.50"),
    ]


def test_an_order_with_a_sku_on_two_lines_is_accepted_and_published_with_both_lines(
    gateway: Gateway,
) -> None:
    # Lines are never merged: the tee twice, once discounted, stays two lines.
    order = canonical(
        lines=[
            {"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90", "line_id": "a"},
            {"sku": "TEE-ORG-BLK-M", "quantity": 1, "unit_price": "12.45", "line_id": "b"},
        ]
    )

    response = gateway.http.post("/v1/orders", json=order)

    assert response.status_code == 202, response.text
    (received,) = list(gateway.app.events.get(uuid.UUID(response.json()["order_id"])))
    public = EVENTS.to_integration(received)
    assert isinstance(public, ev.ChannelOrderReceived)
    assert [(x.sku, x.quantity, str(x.unit_price), x.line_id) for x in public.lines] == [
        ("TEE-ORG-BLK-M", 2, "24.90", "a"),
        ("TEE-ORG-BLK-M", 1, "12.45", "b"),
    ]


def _without(path: str) -> dict[str, Any]:
    order = canonical()
    *parents, last = path.split(".")
    target = order
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    del target[last]
    return order


def _with(path: str, value: Any) -> dict[str, Any]:
    order = canonical()
    *parents, last = path.split(".")
    target: Any = order
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return order


BAD_ORDERS = {
    "missing channel": (_without("channel"), "channel"),
    "missing external id": (_without("external_id"), "external_id"),
    "missing customer email": (_without("customer.email"), "customer.email"),
    "missing city": (_without("shipping_address.city"), "shipping_address.city"),
    "missing lines": (_without("lines"), "lines"),
    "missing currency": (_without("currency"), "currency"),
    "empty external id": (_with("external_id", "  "), "external_id"),
    "channel with capitals": (_with("channel", "Shopify"), "channel"),
    "quantity 0": (_with("lines.0.quantity", 0), "lines.0.quantity"),
    "quantity -1": (_with("lines.0.quantity", -1), "lines.0.quantity"),
    "quantity 1.5": (_with("lines.0.quantity", 1.5), "lines.0.quantity"),
    "quantity as text": (_with("lines.0.quantity", "2"), "lines.0.quantity"),
    "negative price": (_with("lines.0.unit_price", "-1.00"), "lines.0.unit_price"),
    "price abc": (_with("lines.0.unit_price", "abc"), "lines.0.unit_price"),
    "price finer than cents": (_with("lines.0.unit_price", "24.999"), "lines.0.unit_price"),
    "yen with cents": ({**canonical(), "currency": "JPY"}, "more decimal places than JPY"),
    "bad email": (_with("customer.email", "lena-at-example"), "customer.email"),
    "bad country": (_with("shipping_address.country", "XX"), "shipping_address.country"),
    "country name": (_with("shipping_address.country", "Germany"), "shipping_address.country"),
    "bad currency": (_with("currency", "EURO"), "currency"),
    "lower-case currency": (_with("currency", "eur"), "currency"),
    "unknown currency": (_with("currency", "ABC"), "currency"),
    "empty lines": (_with("lines", []), "lines"),
    "bad sku": (_with("lines.0.sku", "TEE BLK"), "lines.0.sku"),
    "unknown field": ({**canonical(), "coupon": "XMAS"}, "coupon"),
    "unknown line field": (_with("lines.0.gift_wrap", "yes"), "lines.0.gift_wrap"),
}


@pytest.mark.parametrize(("body", "named"), BAD_ORDERS.values(), ids=BAD_ORDERS.keys())
def test_bad_input_is_refused_with_a_problem_naming_it_and_nothing_is_recorded(
    gateway: Gateway, body: dict[str, Any], named: str
) -> None:
    before = gateway.stored()

    response = gateway.http.post("/v1/orders", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert named in problem["detail"]
    assert gateway.stored() == before


def test_a_body_that_is_not_json_is_refused_and_nothing_is_recorded(gateway: Gateway) -> None:
    before = gateway.stored()

    response = gateway.http.post(
        "/v1/orders", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert gateway.stored() == before


def test_a_received_order_is_listed_and_found_after_projection(gateway: Gateway) -> None:
    order = canonical(channel="phone")
    order_id = gateway.http.post("/v1/orders", json=order).json()["order_id"]
    gateway.projection.catch_up()

    found = gateway.http.get(f"/v1/channel-orders/{order_id}").json()
    listed = gateway.http.get(
        "/v1/channel-orders", params={"channel": "phone", "status": "accepted"}
    ).json()
    by_external_id = gateway.http.get(
        "/v1/channel-orders", params={"channel": "phone", "external_id": order["external_id"]}
    ).json()

    assert found["external_id"] == order["external_id"]
    assert found["status"] == "accepted"
    assert found["shipping_address"]["country"] == "DE"
    assert found["lines"][1] == {"sku": "MUG-ENM-350-WHT", "quantity": 1, "unit_price": "14.50"}
    assert found["shipments"] == [] and found["refunds"] == []
    assert found["cancelled"] is False
    assert order_id in [o["order_id"] for o in listed["data"]]
    assert {o["channel"] for o in listed["data"]} == {"phone"}
    assert [o["order_id"] for o in by_external_id["data"]] == [order_id]
    assert by_external_id["count"] == 1


def test_channel_orders_are_paged_newest_first(gateway: Gateway) -> None:
    ids = [
        gateway.http.post("/v1/orders", json=canonical(channel="mail")).json()["order_id"]
        for _ in range(3)
    ]
    gateway.projection.catch_up()

    page = gateway.http.get(
        "/v1/channel-orders", params={"channel": "mail", "limit": 2, "offset": 1}
    ).json()

    assert page["count"] == 3
    assert (page["limit"], page["offset"]) == (2, 1)
    assert [o["order_id"] for o in page["data"]] == [ids[1], ids[0]]


def news_of(order_id: uuid.UUID) -> tuple[ev.Shipped, ev.OrderCancelled, ev.Refunded]:
    """What fulfillment, orders and returns report about one order."""
    shipped = factories.shipped(
        order_id, {"TEE-ORG-BLK-M": 2}, carrier="DHL", tracking_number="JJD000390007"
    )
    cancelled = factories.order_cancelled(
        order_id, channel="shopify", external_id="x", reason="customer asked"
    )
    return shipped, cancelled, refunded(order_id, "TEE-ORG-BLK-M", "24.90")


def redeliver(broker: str, gateway: RunningService, *news: ev.IntegrationEvent) -> None:
    """Each event's message again, at the position the gateway last applied: as the broker
    redelivers a message whose offset was not committed."""

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=broker)
        await producer.start()
        try:
            for event in news:
                publisher = topics.PUBLISHER[event.topic]
                position = consumed(gateway, type(event))
                message = encode(
                    event,
                    event_id=f"{publisher}-{position}",
                    service=publisher,
                    position=position,
                )
                await producer.send_and_wait(
                    event.topic, message.value, key=message.key, headers=message.headers
                )
        finally:
            await producer.stop()

    asyncio.run(send())


def test_shipments_cancellation_and_refunds_show_up_and_redelivery_changes_nothing(
    run_service: Any, test_broker: str
) -> None:
    gateway = run_gateway(run_service)
    order_id = uuid.UUID(gateway.http.post("/v1/orders", json=canonical()).json()["order_id"])
    news = news_of(order_id)
    shipped, _, refund = news
    gateway.publish(*news)
    eventually(lambda: all(consumed(gateway, type(event)) == 1 for event in news))
    # The channel is not connected: its three deliveries are skipped, and then all is still.
    eventually(lambda: _skipped(gateway, order_id) == 3)
    stored = gateway.stored()

    redeliver(test_broker, gateway, *news)  # the same messages: the tracking row skips them
    gateway.publish(*news)  # republished at the next position: the aggregate ignores them
    eventually(lambda: all(consumed(gateway, type(event)) == 2 for event in news))

    def projected() -> dict[str, Any]:
        found = gateway.get_json(f"/v1/channel-orders/{order_id}")
        assert found is not None and found["refunds"], found
        return found

    found = eventually(projected)
    assert gateway.stored() == stored
    assert found["status"] == "cancelled"
    assert found["cancelled"] is True
    assert found["cancel_reason"] == "customer asked"
    assert [(s["carrier"], s["tracking_number"]) for s in found["shipments"]] == [
        ("DHL", "JJD000390007")
    ]
    assert found["shipments"][0]["shipment_id"] == str(shipped.shipment_id)
    assert [r["refund_id"] for r in found["refunds"]] == [str(refund.refund_id)]
    assert Decimal(found["refunded_total"]) == Decimal("24.90")
    cancelled_page = gateway.http.get("/v1/channel-orders", params={"status": "cancelled"})
    assert str(order_id) in [o["order_id"] for o in cancelled_page.json()["data"]]


def _skipped(gateway: RunningService, order_id: uuid.UUID) -> int:
    rows = deliveries(gateway.http, order_id=str(order_id), status="skipped")
    return len(rows)


def test_an_unknown_channel_order_is_a_404_problem(gateway: Gateway) -> None:
    response = gateway.http.get(f"/v1/channel-orders/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_an_unknown_status_filter_is_a_422_problem(gateway: Gateway) -> None:
    response = gateway.http.get("/v1/channel-orders", params={"status": "lost"})

    assert response.status_code == 422
    assert "status" in response.json()["detail"]
