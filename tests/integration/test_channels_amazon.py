"""The Amazon poller against a fake SP-API on loopback: cursor, restarts, partial failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.channel_gateway.bootstrap import events
from services.channel_gateway.domain import order_id_for
from shared import events as ev
from tests.fakes import payloads as p
from tests.fakes.amazon import CLIENT_SECRET, REFRESH_TOKEN, FakeAmazon
from tests.fakes.harness import Gateway

pytestmark = pytest.mark.integration
EVENTS = events()


@pytest.fixture
def amazon() -> Iterator[FakeAmazon]:
    fake = FakeAmazon().start()
    yield fake
    fake.stop()


def connect(gw: Gateway, amazon: FakeAmazon) -> None:
    gw.register(
        {
            "channel_id": "amazon-de",
            "kind": "amazon",
            "marketplace_id": "A1PA6795UKMFR9",
            "seller_id": "A2SELLER",
            "lwa_client_id": "amzn1.application-oa2-client.x",
            "base_url": amazon.url,
            "token_url": f"{amazon.url}/auth/o2/token",
            "start_after": "2026-11-28T00:00:00Z",
            "lwa_client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
            "sku_mapping": p.AMAZON_SKUS,
        }
    )


def poll(gw: Gateway) -> int:
    async def once() -> int:
        async with httpx.AsyncClient(timeout=5) as http:
            return await gw.parts.amazon.poll("amazon-de", http)

    return asyncio.run(once())


def order_ids(gw: Gateway) -> list[str]:
    gw.catch_up()
    rows = gw.http.get("/v1/channel-orders", params={"channel": "amazon-de", "limit": 500})
    return sorted(o["external_id"] for o in rows.json()["data"])


def add(amazon: FakeAmazon, number: int, **overrides: Any) -> str:
    order_id = f"028-0000000-{number:07d}"
    amazon.add_order(p.amazon_order(order_id, f"2026-11-28T10:{number:02d}:00Z", **overrides))
    return order_id


def test_a_poll_takes_in_every_page_of_new_orders_and_holds_what_cannot_be_placed(
    new_database: Any, amazon: FakeAmazon
):
    gw = Gateway(new_database("gw_amazon"), amazon_overlap_seconds=0)
    try:
        connect(gw, amazon)
        placed = [add(amazon, n) for n in (1, 2, 3)]
        no_address = add(amazon, 4, recipient={})

        taken = poll(gw)
        gw.catch_up()
        held = gw.http.get("/v1/channel-orders", params={"status": "held"}).json()["data"]
        channel = gw.http.get("/v1/channels/amazon-de").json()
    finally:
        gw.close()

    assert taken == 4
    assert [o["external_id"] for o in held] == [no_address]
    assert held[0]["hold_reasons"] == ["missing shipping address"]
    assert channel["cursor"].startswith("2026-11-28T10:04:00")
    assert len(amazon.sent("GET", "/orders/2026-01-01/orders/")) == 4
    assert placed  # and their getOrder asked for buyer, recipient, fulfilment and payment:
    (first,) = [r for r in amazon.sent("GET", placed[0])]
    assert first.query["includedData"] == "BUYER,RECIPIENT,FULFILLMENT,PAYMENT"


def test_a_restarted_poller_neither_misses_nor_repeats_an_order(
    new_database: Any, amazon: FakeAmazon
):
    url = new_database("gw_amazon_restart")
    first = Gateway(url, amazon_overlap_seconds=120)
    connect(first, amazon)
    before = [add(amazon, n) for n in (1, 2, 3)]
    poll(first)
    first.close()
    after = [add(amazon, n) for n in (5, 6)]

    second = Gateway(url, amazon_overlap_seconds=120)  # a new process on the same database
    try:
        fetched_before = len(amazon.sent("GET", "/orders/2026-01-01/orders/"))
        searched_before = len(amazon.requests)
        taken = poll(second)
        again = poll(second)
        stored = order_ids(second)
        searches = [
            r for r in amazon.requests[searched_before:] if r.path == "/orders/2026-01-01/orders"
        ]
    finally:
        second.close()

    assert taken == 2 and again == 0
    assert stored == sorted(before + after)
    # It re-read the overlap window (orders 2 and 3) but fetched only the new orders.
    assert len(amazon.sent("GET", "/orders/2026-01-01/orders/")) == fetched_before + 2
    # The cursor (10:03) less the overlap window (2 minutes), read page by page.
    assert searches[0].query["lastUpdatedAfter"] == "2026-11-28T10:01:00Z"
    assert [s.query.get("paginationToken") for s in searches[:3]] == [None, "2", "4"]


def test_a_poll_that_fails_half_way_keeps_what_it_read_and_the_next_poll_gets_the_rest(
    new_database: Any, amazon: FakeAmazon
):
    gw = Gateway(new_database("gw_amazon_fail"), amazon_overlap_seconds=0)
    try:
        connect(gw, amazon)
        orders = [add(amazon, n) for n in (1, 2, 3)]
        amazon.fail(1, matching=orders[2])

        with pytest.raises(Exception, match="503"):
            poll(gw)
        partial = order_ids(gw)
        rest = poll(gw)
        complete = order_ids(gw)
    finally:
        gw.close()

    assert partial == orders[:2]
    assert rest == 1
    assert complete == orders
    assert order_id_for("amazon-de", orders[2])


def test_an_order_amazon_cancels_after_we_took_it_in_is_a_channel_cancel_told_once(
    new_database: Any, amazon: FakeAmazon
):
    gw = Gateway(new_database("gw_amazon_cancel"), amazon_overlap_seconds=600)
    try:
        connect(gw, amazon)
        taken, kept = add(amazon, 11), add(amazon, 12)
        assert poll(gw) == 2
        amazon.cancel_order(taken, "2026-11-28T11:00:00Z")
        never = add(amazon, 13)
        amazon.cancel_order(never, "2026-11-28T11:01:00Z")  # cancelled before any poll saw it
        fetched = len(amazon.sent("GET", "/orders/2026-01-01/orders/"))

        assert poll(gw) == 0
        assert poll(gw) == 0  # the overlap window reads the cancel again: told once
        stored_events = gw.app.events.get(order_id_for("amazon-de", taken))
        published = [EVENTS.to_integration(e) for e in stored_events]
        cancels = [e for e in published if isinstance(e, ev.ChannelOrderCancelled)]
        stored = order_ids(gw)
        search = [r for r in amazon.requests if r.path == "/orders/2026-01-01/orders"][-1]
    finally:
        gw.close()

    assert [(c.reason, c.external_id) for c in cancels] == [("cancelled at Amazon", taken)]
    assert stored == sorted([taken, kept])  # the one never taken in is not an order to take in
    assert len(amazon.sent("GET", "/orders/2026-01-01/orders/")) == fetched
    assert search.query["fulfillmentStatuses"] == "UNSHIPPED,CANCELLED"
