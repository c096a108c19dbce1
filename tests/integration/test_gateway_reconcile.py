"""The reconciliation poll of the webhook channels, against the fakes over real HTTP: orders whose
webhook was lost are taken in, orders seen twice stored once, cancellations made at the channel
without a webhook reach the order, every page is read, and the cursor survives a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from services.channel_gateway.bootstrap import events
from services.channel_gateway.domain import order_id_for
from services.channel_gateway.workers.reconcile import PollTally
from shared import events as ev
from tests.fakes import payloads as p
from tests.fakes.harness import Gateway, register, run_gateway
from tests.fakes.server import WebhookTarget
from tests.fakes.shopee import ACCESS_TOKEN, PARTNER_ID, PARTNER_KEY, SHOP_ID, FakeShopee
from tests.fakes.shopify import TOKEN, FakeShopify
from tests.fakes.woocommerce import KEY, SECRET, FakeWooCommerce
from tests.kit import eventually

pytestmark = pytest.mark.integration
EVENTS = events()
SHOPIFY_SECRET, WOO_SECRET = "shopify-app-secret-poll", "woo-webhook-secret-poll"


@pytest.fixture
def fakes() -> Iterator[dict[str, Any]]:
    started = {
        "shopify-eu": FakeShopify().start(),
        "woo-de": FakeWooCommerce().start(),
        "shopee-sg": FakeShopee().start(),
    }
    yield started
    for fake in started.values():
        fake.stop()


def connect(http: httpx.Client, fakes: dict[str, Any], **config: Any) -> None:
    """The three webhook channels, each connected to its fake, whose webhooks come to us."""
    shopify, woo, shopee = fakes["shopify-eu"], fakes["woo-de"], fakes["shopee-sg"]
    channels = [
        {
            "channel_id": "shopify-eu",
            "kind": "shopify",
            "shop_domain": "acme-eu.myshopify.com",
            "base_url": shopify.url,
            "access_token": TOKEN,
            "webhook_secret": SHOPIFY_SECRET,
            "sku_mapping": p.SHOPIFY_SKUS,
        },
        {
            "channel_id": "woo-de",
            "kind": "woocommerce",
            "base_url": woo.url,
            "consumer_key": KEY,
            "consumer_secret": SECRET,
            "webhook_secret": WOO_SECRET,
            "sku_mapping": p.WOO_SKUS,
        },
        {
            "channel_id": "shopee-sg",
            "kind": "shopee",
            "partner_id": PARTNER_ID,
            "shop_id": SHOP_ID,
            "base_url": shopee.url,
            "partner_key": PARTNER_KEY,
            "access_token": ACCESS_TOKEN,
            "sku_mapping": p.SHOPEE_SKUS,
        },
    ]
    for channel in channels:
        register(http, {**channel, **config})
    base = str(http.base_url).rstrip("/")
    shopify.webhooks = WebhookTarget(f"{base}/v1/webhooks/shopify/shopify-eu", SHOPIFY_SECRET)
    woo.webhooks = WebhookTarget(f"{base}/v1/webhooks/woocommerce/woo-de", WOO_SECRET)
    shopee.webhooks = WebhookTarget(f"{base}/v1/webhooks/shopee/shopee-sg", PARTNER_KEY)


def poll(gw: Gateway, channel_id: str) -> PollTally | None:
    """One poll of one channel, as the leader's worker makes it."""

    async def once() -> PollTally | None:
        async with httpx.AsyncClient(timeout=5) as http:
            return await gw.parts.reconcile.poll(channel_id, http)

    return asyncio.run(once())


def poll_and_record(gw: Gateway, channel_id: str) -> int:
    async def once() -> int:
        async with httpx.AsyncClient(timeout=5) as http:
            return await gw.parts.reconcile.poll_and_record(channel_id, http)

    return asyncio.run(once())


def published(gw: Gateway, channel_id: str, external_id: Any) -> list[Any]:
    order_id = order_id_for(channel_id, str(external_id))
    return [EVENTS.to_integration(e) for e in gw.app.events.get(order_id)]


def received(gw: Gateway, channel_id: str, external_id: Any) -> int:
    """How many times the order was taken in (0: never)."""
    found = published(gw, channel_id, external_id)
    return sum(isinstance(e, ev.ChannelOrderReceived) for e in found)


def cancels(gw: Gateway, channel_id: str, external_id: Any) -> list[ev.ChannelOrderCancelled]:
    found = published(gw, channel_id, external_id)
    return [e for e in found if isinstance(e, ev.ChannelOrderCancelled)]


def place_all(fakes: dict[str, Any], number: int, lose: bool) -> dict[str, str]:
    """One order at each channel (its webhook lost or not): external id by channel."""
    shopify = fakes["shopify-eu"].place(p.shopify_order(5829104700000 + number), lose)
    woo = fakes["woo-de"].place(p.woo_order(5000 + number), lose)
    shopee = fakes["shopee-sg"].place(p.shopee_order(f"2612{number:06d}POLL"), lose)
    return {"shopify-eu": str(shopify), "woo-de": str(woo), "shopee-sg": shopee}


def test_an_order_whose_webhook_was_lost_is_taken_in_by_the_poll_on_every_channel(
    new_database: Any, fakes: dict[str, Any]
):
    gw = Gateway(new_database("gw_poll_lost"))
    try:
        connect(gw.http, fakes)
        delivered = place_all(fakes, 1, lose=False)
        lost = place_all(fakes, 2, lose=True)
        before = {c: received(gw, c, x) for c, x in lost.items()}

        taken = {channel: poll_and_record(gw, channel) for channel in lost}
        after = {c: received(gw, c, x) for c, x in lost.items()}
        pushed = {c: received(gw, c, x) for c, x in delivered.items()}
        gw.catch_up()
        shown = {c: gw.http.get(f"/v1/channels/{c}").json()["poll"] for c in lost}
    finally:
        gw.close()

    assert all(len(fake.lost_webhooks) == 1 for fake in fakes.values())
    assert before == {"shopify-eu": 0, "woo-de": 0, "shopee-sg": 0}
    assert after == {"shopify-eu": 1, "woo-de": 1, "shopee-sg": 1}
    assert pushed == {"shopify-eu": 1, "woo-de": 1, "shopee-sg": 1}  # not taken in again
    assert taken == {"shopify-eu": 1, "woo-de": 1, "shopee-sg": 1}
    for channel, poll_state in shown.items():
        assert poll_state["enabled"] is True, channel
        assert poll_state["orders_taken_in"] == 1 and poll_state["failures"] == 0
        assert poll_state["last_success_at"] and poll_state["cursor"], poll_state
    # Shopee: only the order never taken in was pulled, the pushed one once by its push.
    pulled = [r.query["order_sn_list"] for r in fakes["shopee-sg"].sent("GET", "order_detail")]
    assert pulled == [delivered["shopee-sg"], lost["shopee-sg"]]


def test_an_order_taken_in_by_webhook_and_seen_again_by_the_poll_is_stored_once(
    new_database: Any, fakes: dict[str, Any]
):
    gw = Gateway(new_database("gw_poll_twice"))
    try:
        connect(gw.http, fakes)
        delivered = place_all(fakes, 3, lose=False)
        tallies = [poll(gw, channel) for channel in delivered for _ in range(2)]
        counts = {c: received(gw, c, x) for c, x in delivered.items()}
        events_of = {c: len(published(gw, c, x)) for c, x in delivered.items()}
    finally:
        gw.close()

    assert counts == {"shopify-eu": 1, "woo-de": 1, "shopee-sg": 1}
    assert events_of == {"shopify-eu": 1, "woo-de": 1, "shopee-sg": 1}  # no news either
    assert all(t is not None and t.taken_in == 0 and t.news == 0 for t in tallies)


def test_a_cancellation_made_at_the_channel_without_a_webhook_reaches_the_order(
    new_database: Any, fakes: dict[str, Any]
):
    gw = Gateway(new_database("gw_poll_cancel"))
    try:
        connect(gw.http, fakes)
        placed = place_all(fakes, 4, lose=False)
        fakes["shopify-eu"].change(
            int(placed["shopify-eu"]),
            lose_webhook=True,
            cancelled_at=datetime.now().astimezone().isoformat(timespec="seconds"),
            cancel_reason="customer",
            financial_status="voided",
        )
        fakes["woo-de"].change(int(placed["woo-de"]), lose_webhook=True, status="cancelled")
        fakes["shopee-sg"].set_status(placed["shopee-sg"], "CANCELLED", lose_push=True)
        before = {c: cancels(gw, c, x) for c, x in placed.items()}

        tallies = {c: poll(gw, c) for c in placed}
        after = {c: [e.reason for e in cancels(gw, c, x)] for c, x in placed.items()}
        again = [poll(gw, c) for c in placed]
        once = {c: len(cancels(gw, c, x)) for c, x in placed.items()}
    finally:
        gw.close()

    assert before == {"shopify-eu": [], "woo-de": [], "shopee-sg": []}
    assert after == {
        "shopify-eu": ["customer"],
        "woo-de": ["cancelled in WooCommerce"],
        "shopee-sg": ["cancelled at Shopee"],
    }
    assert all(t is not None and t.news == 1 for t in tallies.values())
    assert all(t is not None and t.news == 0 for t in again)  # told once
    assert once == {"shopify-eu": 1, "woo-de": 1, "shopee-sg": 1}


def test_a_poll_reads_every_page_with_each_channel_s_own_paging(
    new_database: Any, fakes: dict[str, Any]
):
    gw = Gateway(new_database("gw_poll_pages"), webhook_poll_page_size=2)
    try:
        connect(gw.http, fakes)
        lost = [place_all(fakes, n, lose=True) for n in range(10, 15)]
        taken = {channel: poll(gw, channel) for channel in lost[0]}
        counts = {c: sum(received(gw, c, o[c]) for o in lost) for c in lost[0]}
    finally:
        gw.close()

    assert counts == {"shopify-eu": 5, "woo-de": 5, "shopee-sg": 5}
    assert all(t is not None and t.taken_in == 5 for t in taken.values())
    listed = fakes["shopify-eu"].sent("GET", "/orders.json")
    assert len(listed) == 3
    assert listed[0].query["status"] == "any" and listed[0].query["order"] == "updated_at asc"
    assert listed[0].query["limit"] == "2" and "updated_at_min" in listed[0].query
    # Further pages by the Link header's URL alone: page_info, never the filters again.
    assert all(set(r.query) == {"limit", "page_info"} for r in listed[1:])
    woo = fakes["woo-de"].sent("GET", "/wc/v3/orders")
    assert {r.query["per_page"] for r in woo} == {"2"}
    assert all(r.query["dates_are_gmt"] == "true" for r in woo)
    assert len(woo) >= 3
    shopee_list = fakes["shopee-sg"].sent("GET", "get_order_list")
    assert [r.query["cursor"] for r in shopee_list] == ["", "2", "4"]
    assert all(r.query["time_range_field"] == "update_time" for r in shopee_list)


def test_the_cursor_survives_a_restart_no_order_pulled_twice_none_missed(
    new_database: Any, fakes: dict[str, Any]
):
    url = new_database("gw_poll_restart")
    first = Gateway(url)
    connect(first.http, fakes)
    before = [place_all(fakes, n, lose=True) for n in (20, 21)]
    for channel in before[0]:
        poll(first, channel)
    cursors = {c: first.app.connections.get(c).cursor for c in before[0]}
    first.close()
    after = [place_all(fakes, n, lose=True) for n in (22, 23)]

    second = Gateway(url)  # a new process on the same database
    try:
        lists_before = {c: len(f.requests) for c, f in fakes.items()}
        pulled_before = len(fakes["shopee-sg"].sent("GET", "order_detail"))
        taken = {c: poll(second, c) for c in before[0]}
        again = {c: poll(second, c) for c in before[0]}
        counts = {c: [received(second, c, o[c]) for o in before + after] for c in before[0]}
        first_list = {c: f.requests[lists_before[c]] for c, f in fakes.items()}
        pulled = fakes["shopee-sg"].sent("GET", "order_detail")[pulled_before:]
    finally:
        second.close()

    assert all(cursors.values())
    assert all(t is not None and t.taken_in == 2 for t in taken.values())
    assert all(t is not None and t.taken_in == 0 for t in again.values())
    assert counts == {c: [1, 1, 1, 1] for c in before[0]}
    # Each channel was read from its stored cursor (less the overlap), not from its connection.
    start = {c: datetime.fromisoformat(cursors[c].replace("Z", "+00:00")) for c in cursors}
    overlap = timedelta(seconds=60)
    shopify_from = first_list["shopify-eu"].query["updated_at_min"]
    assert shopify_from == (start["shopify-eu"] - overlap).strftime("%Y-%m-%dT%H:%M:%SZ")
    woo_from = first_list["woo-de"].query["modified_after"]
    assert woo_from == (start["woo-de"] - overlap).strftime("%Y-%m-%dT%H:%M:%S")
    shopee_from = int(first_list["shopee-sg"].query["time_from"])
    assert shopee_from == int((start["shopee-sg"] - overlap).timestamp())
    # Shopee's orders taken in before were not pulled again: only the two new ones.
    assert sorted(r.query["order_sn_list"] for r in pulled) == [
        f"{after[0]['shopee-sg']},{after[1]['shopee-sg']}"
    ]


def test_a_channel_that_fails_shows_its_error_backs_off_and_the_others_are_polled(
    new_database: Any, fakes: dict[str, Any]
):
    gw = Gateway(new_database("gw_poll_fail"), webhook_poll_interval=30)
    try:
        connect(gw.http, fakes)
        lost = place_all(fakes, 30, lose=True)
        fakes["shopify-eu"].down_for(3600)
        gw.catch_up()  # the poller lists the connected channels from the read model

        async def all_once() -> int:
            async with httpx.AsyncClient(timeout=5) as http:
                return await gw.parts.reconcile.poll_all(http)

        taken = asyncio.run(all_once())
        shown = gw.http.get("/v1/channels/shopify-eu").json()["poll"]
        asked = len(fakes["shopify-eu"].requests)
        asyncio.run(all_once())  # backing off: Shopify is not asked again yet
        asked_again = len(fakes["shopify-eu"].requests)
        others = {c: received(gw, c, lost[c]) for c in ("woo-de", "shopee-sg")}
    finally:
        gw.close()

    assert taken == 2 and others == {"woo-de": 1, "shopee-sg": 1}
    assert shown["failures"] == 1 and "503" in shown["last_error"], shown
    assert shown["last_success_at"] is None and shown["cursor"] is None
    assert asked_again == asked


def test_the_poll_can_be_switched_off_per_channel(new_database: Any, fakes: dict[str, Any]):
    gw = Gateway(new_database("gw_poll_off"))
    try:
        connect(gw.http, fakes, reconciliation_poll=False)
        lost = place_all(fakes, 40, lose=True)
        tallies = [poll(gw, channel) for channel in lost]
        shown = gw.http.get("/v1/channels/woo-de").json()["poll"]
    finally:
        gw.close()

    assert tallies == [None, None, None]
    assert shown["enabled"] is False
    assert not any(f.sent("GET") for f in fakes.values())


def test_the_running_gateway_polls_by_itself(run_service: Any, fakes: dict[str, Any]):
    gw = run_gateway(run_service, webhook_poll_interval=0.3)
    connect(gw.http, fakes)
    lost = fakes["shopify-eu"].place(p.shopify_order(5829104799999), lose_webhook=True)
    order_id: UUID = order_id_for("shopify-eu", str(lost))

    def taken_in() -> bool:
        return gw.http.get(f"/v1/channel-orders/{order_id}").status_code == 200

    eventually(taken_in, timeout=20)
