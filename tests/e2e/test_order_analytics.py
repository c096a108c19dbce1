"""The stream jobs in the running system: an order counted in its channel's hour, its SKU
alerted when it runs low, on oms.analytics.v1 and in the jobs' Prometheus gauges."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shared.events import models as ev
from shared.events import topics
from shared.events.codec import decode
from tests.e2e.conftest import read_topics
from tests.e2e.test_order_story import canonical_order, new_sku, stock_up

pytestmark = pytest.mark.e2e


def until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Call check until it returns something truthy; the last answer otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(1.0)


def test_an_order_is_counted_in_its_hour_and_its_sku_alerted_when_it_runs_low(api, system):
    lamp = new_sku("LAMP")
    stock_up(api, "WH-BER", lamp, 3)
    order = canonical_order([{"sku": lamp, "quantity": 3, "unit_price": "1.25"}])
    order_id = api.call("channel_gateway", "POST", "/orders", json=order).json()["order_id"]
    shipments = api.eventually(
        "fulfillment_service",
        f"/shipments?order_id={order_id}",
        lambda page: len(page["data"]) == 1,
    )["data"]
    shipped = api.call(
        "fulfillment_service",
        "POST",
        f"/shipments/{shipments[0]['shipment_id']}/ship",
        json={"carrier": "DHL", "tracking_number": "JD0146000099999999"},
    )
    assert shipped.status_code == 200, shipped.text

    def events() -> list[Any]:
        names = (topics.ORDERS, topics.ANALYTICS)
        return [
            decode(r.headers, r.key, r.value).event for r in read_topics(system.bootstrap, names)
        ]

    placed = next(
        e for e in events() if isinstance(e, ev.OrderPlaced) and str(e.order_id) == order_id
    )
    hour = placed.placed_at.replace(minute=0, second=0, microsecond=0)

    def counted() -> list[Any]:
        # (Other tests place web orders in this hour too: at least this one, shipped.)
        return [
            e
            for e in events()
            if isinstance(e, ev.ChannelKpisComputed)
            and (e.channel, e.hour) == ("web", hour)
            and e.shipped >= 1
            and e.median_placed_to_shipped_seconds is not None
        ]

    assert until(counted)

    def alerted() -> list[Any]:
        return [
            e
            for e in events()
            if isinstance(e, ev.LowStockAlerted | ev.ReorderSuggested) and e.sku == lamp
        ]

    alerts = until(lambda: len(alerted()) == 2 and alerted())
    assert alerts, "no low-stock alert and reorder suggestion"
    assert {type(e) for e in alerts} == {ev.LowStockAlerted, ev.ReorderSuggested}
    assert all(e.location_id == "WH-BER" for e in alerts)

    metrics = httpx.get(system.job_urls()["stream_jobs"] + "/metrics").text
    assert 'oms_stream_orders{channel="web"}' in metrics
    assert f'oms_stream_low_stock{{location="WH-BER",sku="{lamp}"}} 1.0' in metrics
