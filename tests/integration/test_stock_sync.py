"""Stock sync over real HTTP fakes, PostgreSQL and the broker: what inventory says each channel
may sell reaches Shopify, WooCommerce, Amazon and Shopee in their own request shapes, a burst of
changes becomes few pushes of the latest figure at the configured rate, a failed push is
retried and shown, and a stock change in the real inventory service ends at the channel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from services.inventory_service.bootstrap import build as build_inventory
from services.inventory_service.settings import ChannelStock
from services.inventory_service.settings import Settings as InventorySettings
from shared import events as ev
from shared.cli.main import create_app
from tests.fakes.amazon import CLIENT_SECRET, REFRESH_TOKEN, FakeAmazon
from tests.fakes.harness import register, run_gateway
from tests.fakes.shopee import ACCESS_TOKEN, PARTNER_ID, PARTNER_KEY, SHOP_ID, FakeShopee
from tests.fakes.shopify import TOKEN, FakeShopify
from tests.fakes.woocommerce import KEY, SECRET, FakeWooCommerce
from tests.kit import CLI_ENV, RunningService, eventually

pytestmark = pytest.mark.integration
RATE = 4.0  # stock pushes per second per channel, in these tests
BERLIN, HAMBURG = "gid://shopify/Location/101", "gid://shopify/Location/102"


@pytest.fixture
def fakes() -> Iterator[dict[str, Any]]:
    started = {
        "shopify": FakeShopify().start(),
        "woocommerce": FakeWooCommerce().start(),
        "amazon": FakeAmazon().start(),
        "shopee": FakeShopee().start(),
    }
    yield started
    for fake in started.values():
        fake.stop()


def connect(gw: RunningService, fakes: dict[str, Any]) -> None:
    """The four marketplaces, each selling TEE (named its own way where it maps SKUs)."""
    register(
        gw.http,
        {
            "channel_id": "shopify-eu",
            "kind": "shopify",
            "shop_domain": "acme-eu.myshopify.com",
            "base_url": fakes["shopify"].url,
            "access_token": TOKEN,
            "webhook_secret": "s",
            "sku_mapping": {"SH-TEE": "TEE"},
            "stock_locations": {"berlin": BERLIN, "hamburg": HAMBURG},
        },
    )
    register(
        gw.http,
        {
            "channel_id": "woo-de",
            "kind": "woocommerce",
            "base_url": fakes["woocommerce"].url,
            "consumer_key": KEY,
            "consumer_secret": SECRET,
            "webhook_secret": "w",
            "require_sku_mapping": False,
        },
    )
    register(
        gw.http,
        {
            "channel_id": "amazon-de",
            "kind": "amazon",
            "marketplace_id": "A1PA6795UKMFR9",
            "seller_id": "A2SELLER",
            "lwa_client_id": "amzn1.application-oa2-client.x",
            "base_url": fakes["amazon"].url,
            "token_url": f"{fakes['amazon'].url}/auth/o2/token",
            "lwa_client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
            "sku_mapping": {"AMZ-TEE": "TEE"},
        },
    )
    register(
        gw.http,
        {
            "channel_id": "shopee-sg",
            "kind": "shopee",
            "partner_id": PARTNER_ID,
            "shop_id": SHOP_ID,
            "base_url": fakes["shopee"].url,
            "partner_key": PARTNER_KEY,
            "access_token": ACCESS_TOKEN,
            "sku_mapping": {"SP-TEE": "TEE"},
            "stock_items": {"SP-TEE": {"item_id": 3001, "model_id": 7}},
        },
    )
    fakes["shopify"].add_variant("SH-TEE")
    fakes["woocommerce"].add_product("TEE", parent_id=0)
    fakes["amazon"].listings["AMZ-TEE"] = None
    fakes["shopee"].models.add((3001, 7))


@pytest.fixture
def gateway(run_service: Any, fakes: dict[str, Any]) -> RunningService:
    gw = run_gateway(run_service, stock_sync_rate=RATE, stock_sync_poll_interval=0.05)
    connect(gw, fakes)
    return gw


def figure(
    sku: str, version: int, **channels: tuple[int, dict[str, int]]
) -> ev.ChannelAvailabilityChanged:
    """What inventory would publish: every channel's figure ("any" stands for "*")."""
    return ev.ChannelAvailabilityChanged(
        sku=sku,
        stock_version=version,
        channels=[
            ev.ChannelStock(
                channel="*" if name == "any" else name.replace("_", "-"),
                available=available,
                locations=[
                    ev.LocationStock(location_id=loc, available=units)
                    for loc, units in locations.items()
                ],
            )
            for name, (available, locations) in channels.items()
        ],
        changed_at=datetime.now(UTC),
    )


def stock_sync(gw: RunningService, channel: str, **params: Any) -> dict[str, Any]:
    answer = gw.http.get(f"/v1/stock-sync/{channel}", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_each_channel_is_sent_its_figure_in_its_own_request_shape(
    gateway: RunningService, fakes: dict[str, Any]
) -> None:
    gateway.publish(
        figure(
            "TEE",
            5,
            any=(12, {"berlin": 8, "hamburg": 4}),
            shopify_eu=(7, {"berlin": 7}),
        )
    )
    shopify, woo, amazon, shopee = (
        fakes[k] for k in ("shopify", "woocommerce", "amazon", "shopee")
    )
    eventually(lambda: shopify.available("SH-TEE", BERLIN) == 7, timeout=30)
    # Shopify: its own figure, per mapped location, 0 where its share has none.
    assert shopify.available("SH-TEE", HAMBURG) == 0
    (stock_set,) = [
        r.json() for r in shopify.sent("POST", "graphql") if "OmsStockSet" in r.body.decode()
    ]
    assert "@idempotent(key: $key)" in stock_set["query"]
    given = stock_set["variables"]["input"]
    assert given["name"] == "available" and given["reason"] == "correction"
    assert {q["locationId"]: q["quantity"] for q in given["quantities"]} == {BERLIN: 7, HAMBURG: 0}
    assert all(q["changeFromQuantity"] is None for q in given["quantities"])
    # WooCommerce: the product found by SKU, stock managed, the "*" figure (not configured).
    eventually(lambda: woo.stock_of("TEE") == 12, timeout=30)
    (put,) = woo.sent("PUT", "/wc/v3/products/")
    assert put.json() == {"manage_stock": True, "stock_quantity": 12}
    assert woo.sent("GET", "/wc/v3/products")[0].query.get("sku") == "TEE"
    # Amazon: a JSON patch of fulfillment_availability, merchant-fulfilled.
    eventually(lambda: amazon.listings["AMZ-TEE"] == 12, timeout=30)
    (patch,) = amazon.sent("PATCH", "/listings/2021-08-01/items/A2SELLER/AMZ-TEE")
    assert patch.json()["patches"] == [
        {
            "op": "replace",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}],
        }
    ]
    # Shopee: update_stock of the item's model, one seller_stock for a shop without locations.
    eventually(lambda: shopee.stock.get((3001, 7)) == {"": 12}, timeout=30)
    (update,) = shopee.sent("POST", "/api/v2/product/update_stock")
    assert update.json() == {
        "item_id": 3001,
        "stock_list": [{"model_id": 7, "seller_stock": [{"stock": 12}]}],
    }
    rows = eventually(lambda: stock_sync(gateway, "shopify-eu", status="synced")["data"])
    assert rows[0]["sku"] == "TEE" and rows[0]["pushed"]["available"] == 7


def test_a_burst_of_changes_ends_at_the_latest_figure_within_the_rate(
    gateway: RunningService, fakes: dict[str, Any]
) -> None:
    woo = fakes["woocommerce"]
    started = time.monotonic()
    for second in range(2):
        tick = time.monotonic()
        burst = [figure("TEE", 1 + second * 1000 + i, any=(i, {"berlin": i})) for i in range(1000)]
        gateway.publish(*burst)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    eventually(lambda: woo.stock_of("TEE") == 999, timeout=60)
    elapsed = time.monotonic() - started
    # 2,000 changes in about two seconds; the channel was called at most at its rate.
    assert woo.stock_calls <= RATE * elapsed + RATE, (woo.stock_calls, elapsed)
    assert woo.stock_calls < 50
    time.sleep(0.5)  # nothing more comes once it holds the latest figure
    calls = woo.stock_calls
    time.sleep(0.5)
    assert woo.stock_calls == calls
    row = stock_sync(gateway, "woo-de", sku="TEE")["data"][0]
    assert row["status"] == "synced" and row["stock_version"] == 2000


def test_an_older_or_repeated_figure_changes_nothing(
    gateway: RunningService, fakes: dict[str, Any]
) -> None:
    amazon = fakes["amazon"]
    gateway.publish(figure("TEE", 10, any=(5, {})))
    eventually(lambda: amazon.listings["AMZ-TEE"] == 5, timeout=30)
    gateway.publish(figure("TEE", 9, any=(99, {})), figure("TEE", 10, any=(98, {})))
    time.sleep(1.0)
    assert amazon.listings["AMZ-TEE"] == 5 and amazon.stock_calls == 1


def test_a_failed_push_is_retried_and_shown_and_a_give_up_is_retried_by_hand(
    run_service: Any, fakes: dict[str, Any]
) -> None:
    gw = run_gateway(
        run_service, stock_sync_rate=RATE, stock_sync_poll_interval=0.05, delivery_max_attempts=3
    )
    connect(gw, fakes)
    shopee = fakes["shopee"]
    shopee.fail(2, status=503, matching="update_stock")
    gw.publish(figure("TEE", 3, any=(6, {"berlin": 6})))
    eventually(lambda: shopee.stock.get((3001, 7)) == {"": 6}, timeout=30)
    assert shopee.stock_calls == 1  # the two failed calls never reached the handler
    answers = [r.status for r in shopee.requests if "update_stock" in r.path]
    assert answers == [503, 503, 200]
    row = stock_sync(gw, "shopee-sg", sku="TEE")["data"][0]
    assert row["status"] == "synced" and row["attempts"] == 0

    shopee.fail(10, status=503, matching="update_stock")
    gw.publish(figure("TEE", 4, any=(2, {"berlin": 2})))
    failed = eventually(lambda: stock_sync(gw, "shopee-sg", status="failed")["data"], timeout=30)
    assert "HTTP 503" in failed[0]["last_error"] and failed[0]["wanted"]["available"] == 2
    assert stock_sync(gw, "shopee-sg")["counts"] == {"failed": 1}
    shopee.fail(0)
    answer = gw.http.post("/v1/stock-sync/shopee-sg/retry", json={"sku": "TEE"})
    assert answer.status_code == 202 and answer.json()["skus"] == 1
    eventually(lambda: shopee.stock.get((3001, 7)) == {"": 2}, timeout=30)
    assert gw.http.post("/v1/stock-sync/shopee-sg/retry", json={"sku": "NONE"}).status_code == 404
    assert gw.http.get("/v1/stock-sync/nowhere").status_code == 404


def test_a_sku_the_channel_does_not_sell_is_shown_not_listed_and_resync_pushes_again(
    gateway: RunningService, fakes: dict[str, Any]
) -> None:
    gateway.publish(figure("CAP", 1, any=(3, {})))  # mapped nowhere; WooCommerce has no CAP
    rows = eventually(
        lambda: stock_sync(gateway, "woo-de", status="not_listed")["data"], timeout=30
    )
    assert "no product with SKU CAP" in rows[0]["last_error"]
    shopify_rows = eventually(
        lambda: stock_sync(gateway, "shopify-eu", status="not_listed")["data"], timeout=30
    )
    assert "sku_mapping" in shopify_rows[0]["last_error"]
    fakes["woocommerce"].add_product("CAP")
    answer = gateway.http.post("/v1/stock-sync/woo-de/resync")
    assert answer.status_code == 202 and answer.json()["skus"] == 1
    eventually(lambda: fakes["woocommerce"].stock_of("CAP") == 3, timeout=30)


def test_a_receipt_at_inventory_ends_as_the_channels_stock(
    run_service: Any, fakes: dict[str, Any]
) -> None:
    inventory = run_service(
        build_inventory,
        InventorySettings,
        channels={"shopify-eu": ChannelStock(locations=["berlin"], buffer_units=2)},
    )
    gw = run_gateway(run_service, stock_sync_rate=RATE, stock_sync_poll_interval=0.05)
    connect(gw, fakes)
    body = {"location_id": "berlin", "name": "Berlin", "country": "DE", "priority": 1}
    assert inventory.http.post("/v1/locations", json=body).is_success
    receipt = {"location_id": "berlin", "sku": "TEE", "quantity": 10}
    assert inventory.http.post("/v1/stock/receipts", json=receipt).status_code == 201
    eventually(lambda: fakes["shopify"].available("SH-TEE", BERLIN) == 8, timeout=60)
    eventually(lambda: fakes["woocommerce"].stock_of("TEE") == 10, timeout=60)

    # Someone set the stock by hand in WooCommerce: `oms sync stock` puts it right again.
    woo = fakes["woocommerce"]
    with woo.lock:
        next(p for p in woo.products.values() if p["sku"] == "TEE")["stock_quantity"] = 500
    result = CliRunner(env=CLI_ENV).invoke(
        create_app(),
        [
            "sync",
            "stock",
            "--channel",
            "woo-de",
            "--url",
            str(gw.http.base_url),
            "--inventory-url",
            str(inventory.http.base_url),
            "--timeout",
            "60",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 synced" in result.output
    assert woo.stock_of("TEE") == 10


def test_a_figure_for_other_channels_only_leaves_this_channel_pushing_the_rest(
    gateway: RunningService, fakes: dict[str, Any]
) -> None:
    woo = fakes["woocommerce"]
    # MUG's figure names Shopee alone (no "*"): WooCommerce, which takes any SKU, has nothing
    # to be told of it, and must still push TEE.
    gateway.publish(figure("MUG", 1, shopee_sg=(4, {})), figure("TEE", 1, any=(7, {})))
    eventually(lambda: woo.stock_of("TEE") == 7, timeout=30)
    # A resync forces every SKU, MUG too: it has no figure here and is passed over.
    assert gateway.http.post("/v1/stock-sync/woo-de/resync", json={}).status_code == 202
    gateway.publish(figure("TEE", 2, any=(3, {})))
    eventually(lambda: woo.stock_of("TEE") == 3, timeout=30)
    assert not [get for get in woo.sent("GET", "/wc/v3/products") if get.query.get("sku") == "MUG"]


def test_two_listings_of_one_sku_share_its_figure_and_never_offer_more_than_there_is(
    gateway: RunningService, fakes: dict[str, Any]
) -> None:
    amazon = fakes["amazon"]
    register(
        gateway.http,
        {
            "channel_id": "amazon-uk",
            "kind": "amazon",
            "marketplace_id": "A1F83G8C2ARO7P",
            "seller_id": "A2SELLER",
            "lwa_client_id": "amzn1.application-oa2-client.x",
            "base_url": amazon.url,
            "token_url": f"{amazon.url}/auth/o2/token",
            "lwa_client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
            "sku_mapping": {"UK-TEE-NEW": "TEE", "UK-TEE-GIFT": "TEE"},
        },
    )
    amazon.listings["UK-TEE-NEW"] = amazon.listings["UK-TEE-GIFT"] = None
    gateway.publish(figure("TEE", 1, any=(7, {})))
    eventually(lambda: None not in (amazon.listings["UK-TEE-NEW"], amazon.listings["UK-TEE-GIFT"]))
    assert (amazon.listings["UK-TEE-GIFT"], amazon.listings["UK-TEE-NEW"]) == (4, 3)
