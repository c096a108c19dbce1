"""Stock sync, the gateway's side without I/O: the rate per channel, which channel SKUs are told,
and what the consumer keeps of inventory's figure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.channels.base import Connection
from services.channel_gateway.channels.outbound import Outbound
from services.channel_gateway.channels.registry import Channel
from services.channel_gateway.channels.shopify.transport import ShopifyClient
from services.channel_gateway.channels.stock import StockPush
from services.channel_gateway.channels.woocommerce.transport import WooCommerceClient
from services.channel_gateway.integration import CONSUMES
from services.channel_gateway.views import Secrets
from services.channel_gateway.views.stock_sync import StockGate
from services.channel_gateway.workers.stock_sync import StockSyncPolicy, TokenBucket
from shared import events as ev
from tests.kit import apply


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_allows_a_burst_of_one_second_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(4.0, clock)
    assert [bucket.take() for _ in range(5)] == [True, True, True, True, False]
    clock.now += 0.5
    assert bucket.available() == 2
    clock.now += 100  # idle time does not pile up more than a burst
    assert bucket.available() == 4


def test_over_ten_seconds_at_most_rate_times_ten_plus_a_burst_are_taken() -> None:
    clock = Clock()
    bucket = TokenBucket(2.0, clock)
    taken = 0
    for _ in range(1000):  # a caller asking every 10 ms
        taken += bucket.take()
        clock.now += 0.01
    assert taken <= 2.0 * 10 + 2


def test_a_slow_rate_still_allows_one_call() -> None:
    bucket = TokenBucket(0.1, Clock())
    assert bucket.take() and not bucket.take()


def test_channel_skus_are_the_mapped_ones_or_ours_where_skus_are_ours() -> None:
    shopify = Connection("s", "shopify", {}, {"SH-1": "TEE", "SH-2": "TEE", "X": "CAP"})
    assert shopify.channel_skus("TEE") == ("SH-1", "SH-2")
    assert shopify.channel_skus("MUG") == ()  # marketplaces name SKUs their own way
    woo = Connection("w", "woocommerce", {"require_sku_mapping": False}, {})
    assert woo.channel_skus("MUG") == ("MUG",)


def test_the_backoff_doubles_up_to_its_cap() -> None:
    policy = StockSyncPolicy(backoff_initial=1.0, backoff_max=10.0)
    assert 0.8 <= policy.backoff(1) <= 1.2
    assert 3.2 <= policy.backoff(3) <= 4.8
    assert 8.0 <= policy.backoff(9) <= 12.0


class Kept:
    """A stock_wanted table in memory: latest version wins."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[int, dict[str, Any]]] = {}

    def want_stock(
        self, sku: str, stock_version: int, channels: dict[str, Any], changed_at: datetime
    ) -> bool:
        if sku in self.rows and self.rows[sku][0] >= stock_version:
            return False
        self.rows[sku] = (stock_version, channels)
        return True


def change(version: int, available: int) -> ev.ChannelAvailabilityChanged:
    return ev.ChannelAvailabilityChanged(
        sku="TEE",
        stock_version=version,
        channels=[
            ev.ChannelStock(
                channel="*",
                available=available,
                locations=[ev.LocationStock(location_id="berlin", available=available)],
            )
        ],
        changed_at=datetime.now(UTC),
    )


def test_the_consumer_keeps_the_latest_figure_and_records_no_events() -> None:
    app = ChannelOrders()
    kept = Kept()
    app.stock_sync.attach(kept)
    before = app.recorder.max_notification_id()
    for version, available in ((2, 5), (3, 4), (1, 9), (3, 7)):
        apply(app, CONSUMES, change(version, available))
    assert kept.rows["TEE"] == (3, {"*": {"available": 4, "locations": {"berlin": 4}}})
    assert app.recorder.max_notification_id() == before


def test_without_a_store_the_consumer_refuses_rather_than_drops() -> None:
    with pytest.raises(RuntimeError, match="no store"):
        apply(ChannelOrders(), CONSUMES, change(1, 1))


def channel(kind: str, own: bool = False, **config: Any) -> Channel:
    return Channel(Connection(f"{kind}-1", kind, config, {}), Secrets(), own=own)


def test_marketplaces_get_a_stock_client_unless_switched_off_and_own_channels_none() -> None:
    outbound = Outbound(smtp=None, shop_name="Acme")
    http = httpx.AsyncClient()
    base = {"base_url": "https://shop.example.de", "shop_domain": "x.myshopify.com"}
    assert isinstance(
        outbound.stock_client(channel("woocommerce", **base), http), WooCommerceClient
    )
    assert isinstance(outbound.stock_client(channel("shopify", **base), http), ShopifyClient)
    assert outbound.stock_client(channel("woocommerce", stock_sync=False, **base), http) is None
    assert outbound.stock_client(channel("phone", own=True), http) is None


def test_the_gate_wakes_a_channel_for_a_new_figure_a_due_retry_or_a_forced_push() -> None:
    seen = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    now = seen + timedelta(minutes=1)
    assert StockGate(seen, {}).quiet("woo", seen, now)
    assert not StockGate(seen + timedelta(seconds=1), {}).quiet("woo", seen, now)  # new figure
    assert not StockGate(seen, {"woo": (now, False)}).quiet("woo", seen, now)  # retry due
    assert StockGate(seen, {"woo": (now + timedelta(1), False)}).quiet("woo", seen, now)
    assert not StockGate(seen, {"woo": (None, True)}).quiet("woo", seen, now)  # forced by ops
    assert StockGate(seen, {"shop": (None, True)}).quiet("woo", seen, now)  # another channel's


@pytest.mark.parametrize("listings", [1, 2, 3, 7])
@pytest.mark.parametrize("available", [0, 1, 5, 10, 101])
def test_listings_of_one_sku_share_its_figure_whole_and_per_location(
    listings: int, available: int
) -> None:
    names = tuple(f"L{n}" for n in range(listings))
    push = StockPush("TEE", names, available, {"berlin": available, "hamburg": 1})
    shares = [push.share_of(name) for name in names]
    assert sum(whole for whole, _ in shares) == available
    assert max(w for w, _ in shares) - min(w for w, _ in shares) <= 1
    assert sum(per["berlin"] for _, per in shares) == available
    assert sum(per["hamburg"] for _, per in shares) == 1
