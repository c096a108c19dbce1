"""The stream jobs on a real broker: KPIs per channel and hour, low-stock alerts and reorder
suggestions on oms.analytics.v1, and a restart (even a kill -9) that counts nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from shared.events import models as ev
from shared.events import topics
from shared.events.base import IntegrationEvent
from shared.events.codec import decode, encode
from shared.runtime.embedded import EmbeddedBroker, free_port
from shared.runtime.kafka_admin import ensure_topics
from tests import factories

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
H9 = datetime(2026, 11, 29, 9, tzinfo=UTC)
H10 = datetime(2026, 11, 29, 10, tzinfo=UTC)


class StreamJobs:
    """`python -m services.stream_jobs` as `oms up` runs it, on a test's own broker."""

    def __init__(self, bootstrap: str, log_path: Path, **settings: str):
        self.port = free_port()
        self.log_path = log_path
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "OMS_STREAMS_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "OMS_STREAMS_HTTP_PORT": str(self.port),
            "OMS_STREAMS_PUBLISH_INTERVAL_SECONDS": "0.5",
            **{f"OMS_STREAMS_{name.upper()}": value for name, value in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> StreamJobs:
        """Start the process and wait until /readyz says its tables are recovered."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.stream_jobs"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            if self.get("/readyz")[0] == 200:
                return self
            time.sleep(0.2)
        raise AssertionError(f"not ready in 60 s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it (SIGKILL: no goodbye, no last commit)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
        self.process = None

    def get(self, path: str) -> tuple[int, str]:
        """GET a path of its web server: status and body (0 when it does not answer)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""
        except OSError:
            return 0, ""

    def gauge(self, name: str, **labels: str) -> float | None:
        """A sample of /metrics, None when absent."""
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))  # as Prometheus does
        for line in self.get("/metrics")[1].splitlines():
            if line.startswith(f"{name}{{{wanted}}} "):
                return float(line.rsplit(" ", 1)[1])
        return None


@pytest.fixture
def stream_jobs(test_broker: str, tmp_path: Path) -> Iterator[Any]:
    """Factory of stream jobs processes on the test's broker; all stopped after the test."""
    started: list[StreamJobs] = []

    def start(**settings: str) -> StreamJobs:
        jobs = StreamJobs(test_broker, tmp_path / "stream_jobs.log", **settings).start()
        started.append(jobs)
        return jobs

    yield start
    for jobs in started:
        jobs.stop(signal.SIGKILL)


class Publisher:
    """Puts events on the topics as their services' relays do (positions per publisher)."""

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap
        self.positions: defaultdict[str, int] = defaultdict(int)
        self.sent: list[tuple[IntegrationEvent, int]] = []

    async def publish(self, *events: IntegrationEvent) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await producer.start()
        try:
            for event in events:
                service = topics.PUBLISHER[event.topic]
                self.positions[service] += 1
                await self._send(producer, event, self.positions[service])
        finally:
            await producer.stop()

    async def republish_all(self) -> None:
        """Every event sent so far, again with its own position, as a relay after a broker
        lost its log."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await producer.start()
        try:
            for event, position in list(self.sent):
                await self._send(producer, event, position, remember=False)
        finally:
            await producer.stop()

    async def _send(
        self,
        producer: AIOKafkaProducer,
        event: IntegrationEvent,
        position: int,
        remember: bool = True,
    ) -> None:
        service = topics.PUBLISHER[event.topic]
        message = encode(
            event, event_id=f"{service}-{position}", service=service, position=position
        )
        await producer.send_and_wait(
            event.topic, message.value, key=message.key, headers=message.headers
        )
        if remember:
            self.sent.append((event, position))


async def put_raw(bootstrap: str, topic: str, value: bytes) -> None:
    """A record as no OMS publisher would send it."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"junk")
    finally:
        await producer.stop()


async def records(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    """Every record on a topic, in order per partition."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        found: list[ConsumerRecord] = []
        while True:
            batch = await consumer.getmany(timeout_ms=500)
            if not batch:
                return found
            for part in batch.values():
                found.extend(part)
    finally:
        await consumer.stop()


async def analytics(bootstrap: str) -> list[IntegrationEvent]:
    """Every event on oms.analytics.v1, in order per key."""
    return [
        decode(r.headers, r.key, r.value).event for r in await records(bootstrap, topics.ANALYTICS)
    ]


async def latest_kpis(bootstrap: str) -> dict[tuple[str, datetime], dict[str, Any]]:
    """The newest KPIs of every channel and hour, without their time of computing."""
    latest: dict[tuple[str, datetime], dict[str, Any]] = {}
    for event in await analytics(bootstrap):
        if isinstance(event, ev.ChannelKpisComputed):
            latest[(event.channel, event.hour)] = event.to_data() | {"computed_at": None}
    return latest


async def wait_for(check: Any, timeout: float = 60.0) -> Any:
    """Poll an async check until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.5)


# -- the orders, and their KPIs counted by hand ---------------------------------------------


def placed(channel: str, at: datetime, quantities: dict[str, int], price: str, currency: str):
    return factories.order_placed(
        channel=channel,
        placed_at=at,
        lines=factories.lines(quantities, price),
        currency=currency,
    )


def shipped(order: ev.OrderPlaced, after: timedelta, short: int = 0) -> ev.OrderShipped:
    quantities = {line.sku: line.quantity for line in order.lines}
    sku = next(iter(quantities))
    quantities[sku] -= short
    shipped_lines = {s: q for s, q in quantities.items() if q > 0}
    event = factories.order_shipped(
        order.order_id,
        shipped_lines,
        str(order.lines[0].unit_price),
        order.currency,
        shipped_at=order.placed_at + after,
    )
    if short:
        return event.model_copy(
            update={"short_lines": [ev.ShortLine(sku=sku, quantity=short, paid="0")]}
        )
    return event


def backordered(order: ev.OrderPlaced) -> ev.OrderBackordered:
    return ev.OrderBackordered(
        order_id=order.order_id,
        shortages=[{"sku": order.lines[0].sku, "requested": 1, "available": 0}],
        backordered_at=order.placed_at,
    )


def kpis(
    channel: str,
    hour: datetime,
    orders: int,
    units: int,
    revenue: list[tuple[str, str, int]],
    *,
    backordered: int = 0,
    cancelled: int = 0,
    shipped: int = 0,
    backorder_rate: str | None = None,
    fill_rate: str | None = None,
    median: str | None = None,
) -> dict[str, Any]:
    """A fresh count of one channel and hour, written by hand."""
    expected = {
        "channel": channel,
        "hour": hour.isoformat().replace("+00:00", "Z"),
        "orders": orders,
        "units": units,
        "revenue": [{"currency": c, "amount": a, "minor_units": m} for c, a, m in revenue],
        "backordered": backordered,
        "cancelled": cancelled,
        "shipped": shipped,
        "computed_at": None,
        "backorder_rate": backorder_rate,
        "fill_rate": fill_rate,
        "median_placed_to_shipped_seconds": median,
    }
    return {k: v for k, v in expected.items() if v is not None or k == "computed_at"}


async def test_kpis_survive_a_kill_and_a_republish_without_counting_anything_twice(
    test_broker: str, stream_jobs: Any
) -> None:
    bangkok = timezone(timedelta(hours=7))
    web = [
        placed("web", H9 + timedelta(minutes=5), {"TEE": 2}, "24.90", "EUR"),
        placed("web", H9 + timedelta(minutes=20), {"MUG": 1}, "9.99", "EUR"),
        # 16:40 in Bangkok is 09:40 UTC: the 09:00 hour.
        placed("web", datetime(2026, 11, 29, 16, 40, tzinfo=bangkok), {"CAP": 3}, "1.235", "KWD"),
        placed("web", H10 + timedelta(minutes=1), {"TEE": 1}, "24.90", "EUR"),
    ]
    shop = [
        placed("shopify", H9 + timedelta(minutes=30), {"TEE": 4}, "20.00", "EUR"),
        placed("shopify", H9 + timedelta(minutes=31), {"MUG": 2}, "9.99", "EUR"),
    ]
    publisher = Publisher(test_broker)
    await publisher.publish(*web, *shop, backordered(web[1]), shipped(web[0], timedelta(hours=2)))
    # Neither a record that is no CloudEvent nor an order in no ISO currency is counted.
    await publisher.publish(placed("web", H9, {"TEE": 1}, "1.00", "XYZ"))
    await put_raw(test_broker, topics.ORDERS, b"not a cloudevent")
    jobs = stream_jobs()

    first = {
        ("web", H9): kpis(
            "web",
            H9,
            3,
            6,
            [("EUR", "59.79", 5979), ("KWD", "3.705", 3705)],
            backordered=1,
            shipped=1,
            backorder_rate="0.3333",
            fill_rate="1.0000",
            median="7200",
        ),
        ("web", H10): kpis("web", H10, 1, 1, [("EUR", "24.90", 2490)], backorder_rate="0.0000"),
        ("shopify", H9): kpis(
            "shopify", H9, 2, 6, [("EUR", "99.98", 9998)], backorder_rate="0.0000"
        ),
    }

    async def first_counted() -> bool:
        return await latest_kpis(test_broker) == first

    assert await wait_for(first_counted), await latest_kpis(test_broker)

    # No goodbye: whatever faust had not committed yet is read again after the restart.
    jobs.stop(signal.SIGKILL)
    await publisher.publish(
        shipped(web[1], timedelta(minutes=50)),
        shipped(web[2], timedelta(hours=1), short=1),
        factories.order_cancelled(shop[1].order_id),
        shipped(shop[0], timedelta(minutes=30), short=1),
    )
    jobs = stream_jobs()
    # A relay that found the broker's log gone sends everything again.
    await publisher.republish_all()
    await publisher.publish(
        placed("shopify", H9 + timedelta(minutes=59), {"CAP": 1}, "5.00", "EUR")
    )

    final = {
        ("web", H9): kpis(
            "web",
            H9,
            3,
            6,
            [("EUR", "59.79", 5979), ("KWD", "3.705", 3705)],
            # 3 orders shipped 7200, 3000 and 3600 s after placing: 5 of 6 units (one short).
            backordered=1,
            shipped=3,
            backorder_rate="0.3333",
            fill_rate="0.8333",
            median="3600",
        ),
        ("web", H10): first[("web", H10)],
        ("shopify", H9): kpis(
            "shopify",
            H9,
            3,
            7,
            [("EUR", "104.98", 10498)],
            cancelled=1,
            shipped=1,
            backorder_rate="0.0000",
            fill_rate="0.7500",
            median="1800",
        ),
    }

    async def all_counted() -> bool:
        return await latest_kpis(test_broker) == final

    assert await wait_for(all_counted), await latest_kpis(test_broker)
    assert jobs.gauge("oms_stream_orders", channel="shopify") == 3
    assert jobs.gauge("oms_stream_revenue_minor_units", channel="web", currency="EUR") == 2490
    reasons = {
        dict(r.headers)["dlq_reason"].decode()
        for r in await records(test_broker, topics.dlq(topics.ORDERS))
        if dict(r.headers)["dlq_consumer"] == b"stream_jobs"
    }
    assert any("XYZ" in reason for reason in reasons), reasons
    assert any("not a binary-mode" in reason for reason in reasons), reasons


async def test_a_location_going_low_is_alerted_once_with_a_suggestion_also_after_a_restart(
    test_broker: str, stream_jobs: Any
) -> None:
    settings = {
        "lead_time_days": "7",
        "demand_window_days": "7",
        "safety_stock_days": "0",
        "safety_stock_units": "2",
        "cover_days": "7",
    }
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)

    def level(available: int, at: datetime) -> ev.StockLevelChanged:
        return ev.StockLevelChanged(
            sku="TEE", location_id="WH-1", on_hand=available, reserved=0,
            available=available, reason="test", changed_at=at,
        )  # fmt: skip

    def reserved(units: int, days_ago: int) -> ev.StockReserved:
        return ev.StockReserved(
            order_id=uuid4(),
            allocations=factories.allocations({"TEE": units}),
            reserved_at=now - timedelta(days=days_ago),
        )

    publisher = Publisher(test_broker)
    jobs = stream_jobs(**settings)
    # 6 + 8 units in the last 7 days (the 30 of 9 days ago are outside): 2 a day.
    await publisher.publish(level(40, now - timedelta(days=10)))
    await publisher.publish(reserved(30, 9), reserved(6, 5), reserved(8, 1))
    await publisher.republish_all()  # the same reservations again count once

    async def demand_known() -> bool:
        # Reorder point: 2/day x 7 days + 2 units of safety stock.
        return jobs.gauge("oms_stream_reorder_point", sku="TEE", location="WH-1") == 16

    assert await wait_for(demand_known)
    await publisher.publish(level(3, now))

    async def alerts() -> list[IntegrationEvent]:
        return [e for e in await analytics(test_broker) if e.topic == topics.ANALYTICS]

    found = await wait_for(alerts)
    assert [type(e) for e in found] == [ev.LowStockAlerted, ev.ReorderSuggested]
    alert, suggestion = found
    assert isinstance(alert, ev.LowStockAlerted) and isinstance(suggestion, ev.ReorderSuggested)
    assert (alert.available, alert.reorder_point, alert.daily_demand) == (3, 16, 2)
    # Up to the reorder point plus 7 days of cover: 16 + 14 - 3.
    assert suggestion.quantity == 27

    jobs.stop(signal.SIGTERM)
    jobs = stream_jobs(**settings)
    await publisher.publish(level(2, now + timedelta(hours=1)))

    async def seen() -> bool:
        return jobs.gauge("oms_stream_low_stock", sku="TEE", location="WH-1") == 1

    assert await wait_for(seen)
    # Still the same time of being low: the state came back from the changelog, no new alert.
    assert len(await analytics(test_broker)) == 2


async def test_a_broker_that_lost_its_log_restarts_the_jobs_and_the_republish_counts_once(
    tmp_path: Path,
) -> None:
    broker = EmbeddedBroker(free_port(), log_path=tmp_path / "broker.log")
    broker.start()
    jobs = StreamJobs(broker.bootstrap, tmp_path / "stream_jobs.log", broker_check_seconds="0.5")
    try:
        jobs.start()
        first = placed("web", H9 + timedelta(minutes=5), {"TEE": 1}, "1.00", "EUR")
        publisher = Publisher(broker.bootstrap)
        await publisher.publish(first)

        async def counted(orders: int, units: int) -> bool:
            found = (await latest_kpis(broker.bootstrap)).get(("web", H9))
            return found is not None and (found["orders"], found["units"]) == (orders, units)

        assert await wait_for(lambda: counted(1, 1))

        # The embedded broker keeps its log in memory: restarted, it is empty; the relays
        # create the topics again and republish everything (README, "Restarts and the
        # broker's log"). Faust would drop the refilled topics' first offsets as already
        # read, so the jobs exit and their supervisor (here: the test) starts them again.
        broker.stop()
        broker.start()
        await ensure_topics(broker.bootstrap, topics.ALL_TOPICS, 4)
        await publisher.republish_all()
        await publisher.publish(placed("web", H9 + timedelta(minutes=6), {"MUG": 2}, "2.00", "EUR"))
        assert jobs.process is not None
        assert jobs.process.wait(timeout=30) == 75
        jobs.start()

        assert await wait_for(lambda: counted(2, 3)), await latest_kpis(broker.bootstrap)
    finally:
        jobs.stop(signal.SIGKILL)
        broker.stop()
