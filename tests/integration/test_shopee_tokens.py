"""Shopee access tokens (4 h) are refreshed before they expire, once per shop, and the rotated
refresh token is kept; a refused refresh token says the shop must be authorised again.

Real HTTP against the fake Shopee (which expires and rotates tokens) and real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.channel_gateway.domain import order_id_for
from tests import factories
from tests.fakes import payloads as p
from tests.fakes.harness import deliveries, register, run_gateway
from tests.fakes.shopee import (
    ACCESS_TOKEN,
    PARTNER_ID,
    PARTNER_KEY,
    REFRESH_TOKEN,
    SHOP_ID,
    FakeShopee,
)
from tests.kit import RunningService, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def shopee() -> Iterator[FakeShopee]:
    fake = FakeShopee().start()
    yield fake
    fake.stop()


def connect(gw: RunningService, shopee: FakeShopee, **extra: Any) -> None:
    register(
        gw.http,
        {
            "channel_id": "shopee-sg",
            "kind": "shopee",
            "partner_id": PARTNER_ID,
            "shop_id": SHOP_ID,
            "base_url": shopee.url,
            "partner_key": PARTNER_KEY,
            "access_token": ACCESS_TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "sku_mapping": p.SHOPEE_SKUS,
            **extra,
        },
    )


def ship(gw: RunningService, shopee: FakeShopee, sn: str) -> uuid.UUID:
    """An order of the shop taken in, then shipped by fulfillment: the gateway tells Shopee."""
    shopee.add_order(p.shopee_order(sn))
    gw.app.intake.receive_order(
        "shopee-sg",
        sn,
        {"name": "Tan Wei Ling", "email": "25187311@buyer.shopee"},
        {
            "name": "Tan",
            "line1": "391 Orchard Road",
            "city": "Singapore",
            "postal_code": "238801",
            "country": "SG",
        },
        [{"sku": "TEE-ORG-BLK-M", "quantity": 1, "unit_price": "35.90"}],
        "SGD",
    )
    order_id = order_id_for("shopee-sg", sn)
    fields = {"location_id": "WH-SG", "carrier": "SPX", "tracking_number": f"SPX{sn}"}
    gw.publish(factories.shipped(order_id, {"TEE-ORG-BLK-M": 1}, **fields))
    return order_id


def delivery(gw: RunningService, order_id: uuid.UUID) -> dict[str, Any]:
    rows = deliveries(gw.http, order_id=str(order_id), action="shipment")
    return rows[0] if rows else {"status": "missing"}


def settled(gw: RunningService, order_id: uuid.UUID) -> bool:
    return delivery(gw, order_id)["status"] not in ("pending", "missing")


def test_a_shipment_after_the_access_token_expired_refreshes_it_and_goes_out(
    run_service: Any, shopee: FakeShopee
):
    gw = run_gateway(run_service)
    connect(gw, shopee)
    shopee.expire_access_tokens()  # four hours passed

    order_id = ship(gw, shopee, "251201EXP0001")
    eventually(lambda: settled(gw, order_id))

    assert delivery(gw, order_id)["status"] == "delivered", delivery(gw, order_id)
    assert shopee.refreshes == [REFRESH_TOKEN]
    assert [s["order_sn"] for s in shopee.shipped] == ["251201EXP0001"]
    stored = gw.parts.registry.store.get("shopee-sg").current
    assert stored["refresh_token"] not in ("", REFRESH_TOKEN)  # the rotated one is kept
    assert stored["access_token"] != ACCESS_TOKEN


def test_the_access_token_is_refreshed_before_it_expires(run_service: Any):
    shopee = FakeShopee().start()
    try:
        gw = run_gateway(run_service)
        # Ten minutes left when connected: less than the 15 minutes' margin.
        connect(gw, shopee, access_token_expire_in=600)

        order_id = ship(gw, shopee, "251201PRE0001")
        eventually(lambda: settled(gw, order_id))

        assert delivery(gw, order_id)["status"] == "delivered"
        assert shopee.refreshes == [REFRESH_TOKEN]
        # Never refused: the token was replaced before Shopee would have said it expired.
        assert not [r for r in shopee.sent() if r.status == 403]
    finally:
        shopee.stop()


def test_the_rotated_refresh_token_survives_a_restart(
    run_service: Any, new_database: Any, shopee: FakeShopee
):
    database = new_database("gw_shopee_tok")
    first = run_gateway(run_service, database_url=database)
    connect(first, shopee)
    shopee.expire_access_tokens()
    order_id = ship(first, shopee, "251201RST0001")
    eventually(lambda: settled(first, order_id))
    assert delivery(first, order_id)["status"] == "delivered"
    first.stop()

    shopee.expire_access_tokens()  # another four hours; the old refresh token is refused now
    second = run_gateway(run_service, database_url=database)
    order_id = ship(second, shopee, "251201RST0002")
    eventually(lambda: settled(second, order_id))

    assert delivery(second, order_id)["status"] == "delivered", delivery(second, order_id)
    assert len(shopee.refreshes) == 2
    assert shopee.refreshes[1] != REFRESH_TOKEN  # the one Shopee rotated to, read back


def test_concurrent_calls_refresh_once(run_service: Any, shopee: FakeShopee):
    gw = run_gateway(run_service, delivery_concurrency=8)
    connect(gw, shopee)
    shopee.expire_access_tokens()

    orders = [ship(gw, shopee, f"251201CON000{i}") for i in range(5)]
    eventually(lambda: all(settled(gw, order_id) for order_id in orders))

    assert {delivery(gw, order_id)["status"] for order_id in orders} == {"delivered"}
    assert shopee.refreshes == [REFRESH_TOKEN]
    assert len(shopee.shipped) == 5


def test_an_expired_refresh_token_asks_for_authorisation_again(
    run_service: Any, shopee: FakeShopee
):
    gw = run_gateway(run_service)
    connect(gw, shopee)
    shopee.expire_access_tokens()
    shopee.expire_refresh_tokens()  # 30 days passed

    order_id = ship(gw, shopee, "251201REA0001")
    eventually(lambda: settled(gw, order_id))

    row = delivery(gw, order_id)
    assert row["status"] == "failed", row
    assert "must be authorised again" in row["last_error"]
    assert shopee.shipped == []
    ready = gw.http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["shopee_tokens"] is False
    metrics = gw.http.get("/metrics").text
    assert 'oms_shopee_reauthorisation_needed{channel="shopee-sg"} 1.0' in metrics

    # The merchant authorises the shop again: new tokens, and the gateway is ready again.
    shopee.access_tokens["reauthorised-access"] = 4e9
    shopee.refresh_tokens["reauthorised-refresh"] = 4e9
    connect(gw, shopee, access_token="reauthorised-access", refresh_token="reauthorised-refresh")
    again = ship(gw, shopee, "251201REA0002")
    eventually(lambda: settled(gw, again))
    assert delivery(gw, again)["status"] == "delivered"
    assert gw.http.get("/readyz").json()["checks"]["shopee_tokens"] is True
