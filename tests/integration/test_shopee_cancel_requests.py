"""A Shopee buyer's cancellation request (IN_CANCEL) end to end over real HTTP and the broker:
the gateway records it once, the order service answers it by policy, the answer reaches the
fake Shopee as handle_buyer_cancellation (once), and Shopee's CANCELLED push that follows is
not a second cancel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from services.channel_gateway.domain import order_id_for
from services.order_service.bootstrap import build as build_orders
from services.order_service.settings import Settings as OrderSettings
from shared import events as ev
from shared.events.base import now_utc
from tests.fakes import payloads as p
from tests.fakes.harness import deliveries, register, run_gateway
from tests.fakes.shopee import ACCESS_TOKEN, PARTNER_ID, PARTNER_KEY, SHOP_ID, FakeShopee
from tests.kit import RunningService, eventually

pytestmark = pytest.mark.integration
PUSH_URL = "https://oms.example.com/v1/webhooks/shopee/shopee-sg"


@pytest.fixture(scope="module")
def shopee() -> Iterator[FakeShopee]:
    fake = FakeShopee().start()
    yield fake
    fake.stop()


def start(run_service: Any, shopee: FakeShopee, **orders: Any) -> tuple[Any, RunningService]:
    gateway = run_gateway(run_service)
    register(
        gateway.http,
        {
            "channel_id": "shopee-sg",
            "kind": "shopee",
            "partner_id": PARTNER_ID,
            "shop_id": SHOP_ID,
            "base_url": shopee.url,
            "push_url": PUSH_URL,
            "partner_key": PARTNER_KEY,
            "access_token": ACCESS_TOKEN,
            "sku_mapping": p.SHOPEE_SKUS,
        },
    )
    return gateway, run_service(build_orders, OrderSettings, **orders)


def push(gateway: RunningService, message: dict[str, Any]) -> dict[str, Any]:
    body = p.dumps(message)
    headers = p.shopee_push_headers(PUSH_URL, body, PARTNER_KEY)
    answer = gateway.http.post("/v1/webhooks/shopee/shopee-sg", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def take_in(gateway: RunningService, orders: RunningService, shopee: FakeShopee, sn: str) -> Any:
    shopee.add_order(p.shopee_order(sn))
    assert push(gateway, p.shopee_push(SHOP_ID, sn))["status"] == "accepted"
    order_id = order_id_for("shopee-sg", sn)
    eventually(lambda: orders.get_json(f"/v1/orders/{order_id}"))
    return order_id


def timeline(orders: RunningService, order_id: Any) -> list[dict[str, Any]]:
    return list(orders.get_json(f"/v1/orders/{order_id}")["timeline"])


def test_a_request_before_picking_is_accepted_at_shopee_once_and_the_order_cancelled(
    run_service: Any, shopee: FakeShopee
):
    gateway, orders = start(run_service, shopee)
    sn = "251206INCANC01"
    order_id = take_in(gateway, orders, shopee, sn)

    request = shopee.buyer_requests_cancel(sn)
    assert push(gateway, request)["status"] == "cancel_request_recorded"
    assert push(gateway, request)["status"] == "unchanged"  # Shopee pushed it again

    eventually(lambda: shopee.orders[sn]["order_status"] == "CANCELLED")
    assert [a["operation"] for a in shopee.cancel_answers if a["order_sn"] == sn] == ["ACCEPT"]
    assert eventually(lambda: orders.get_json(f"/v1/orders/{order_id}")["status"] == "cancelled")
    names = [row["event"] for row in timeline(orders, order_id)]
    assert "CancelRequestAnswered" in names and "Cancelled" in names
    # Shopee then tells us the order is cancelled: already so, nothing more happens.
    assert push(gateway, p.shopee_push(SHOP_ID, sn, "CANCELLED"))["status"] == "unchanged"
    # One delivery, the answer: the OMS's own cancel that followed sent no cancel_order.
    eventually(
        lambda: (
            [(r["action"], r["status"]) for r in deliveries(gateway.http, channel="shopee-sg")]
            == [("cancel_request", "delivered")]
        )
    )
    assert not [r for r in shopee.sent("POST", "cancel_order") if r.json()["order_sn"] == sn]


def test_a_request_once_picking_started_is_refused_at_shopee_and_the_order_goes_on(
    run_service: Any, shopee: FakeShopee
):
    gateway, orders = start(run_service, shopee)
    sn = "251206INCANC02"
    order_id = take_in(gateway, orders, shopee, sn)
    orders.publish(
        ev.PickingStarted(
            order_id=order_id,
            shipment_id=uuid4(),
            pick_list_id=uuid4(),
            location_id="WH-SG",
            started_at=now_utc(),
        )
    )
    eventually(lambda: orders.get_json(f"/v1/orders/{order_id}")["picking"])

    assert push(gateway, shopee.buyer_requests_cancel(sn))["status"] == "cancel_request_recorded"

    eventually(lambda: [a for a in shopee.cancel_answers if a["order_sn"] == sn])
    assert [a["operation"] for a in shopee.cancel_answers if a["order_sn"] == sn] == ["REJECT"]
    assert shopee.orders[sn]["order_status"] == "READY_TO_SHIP"  # Shopee's order goes on
    answered = eventually(
        lambda: [r for r in timeline(orders, order_id) if r["event"] == "CancelRequestAnswered"]
    )
    assert answered[0]["detail"]["accepted"] is False
    assert orders.get_json(f"/v1/orders/{order_id}")["status"] != "cancelled"


def test_under_the_ops_policy_the_request_waits_visibly_until_ops_answer(
    run_service: Any, shopee: FakeShopee
):
    gateway, orders = start(run_service, shopee, cancel_request_policies={"shopee-sg": "ops"})
    sn = "251206INCANC03"
    order_id = take_in(gateway, orders, shopee, sn)

    assert push(gateway, shopee.buyer_requests_cancel(sn))["status"] == "cancel_request_recorded"
    held = eventually(
        lambda: [r for r in timeline(orders, order_id) if r["event"] == "CancelRequestHeld"]
    )
    assert held[0]["detail"]["exception"] == "channel_cancel_request"
    assert [a for a in shopee.cancel_answers if a["order_sn"] == sn] == []

    answer = orders.http.post(f"/v1/orders/{order_id}/cancel-request", json={"accept": True})
    assert answer.status_code == 202, answer.text
    eventually(lambda: shopee.orders[sn]["order_status"] == "CANCELLED")
    again = orders.http.post(f"/v1/orders/{order_id}/cancel-request", json={"accept": True})
    assert again.status_code == 409
