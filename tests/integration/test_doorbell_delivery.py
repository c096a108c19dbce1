"""Consumers that doze until their doorbell rings still get every message, on the real broker.

With a doorbell (as `oms up` runs the services on one machine) a consumer stops fetching once it
has read everything; the relays that publish ring it. These tests make the fallback poll so
long that only a ring can explain a prompt delivery, and then show that a lost ring costs only
the fallback interval, never a message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services.channel_gateway.bootstrap import build as build_gateway
from services.channel_gateway.settings import Settings as GatewaySettings
from services.order_service.bootstrap import build as build_orders
from services.order_service.settings import Settings as OrderSettings
from shared.events import topics
from shared.runtime.doorbell import Doorbell
from shared.runtime.kafka_admin import topic_end_offsets
from tests import factories
from tests.factories_channel_gateway import canonical_order
from tests.fakes.harness import SECRETS_KEY
from tests.kit import RunningService, eventually

pytestmark = pytest.mark.integration
NEVER = 600.0  # a fallback poll so rare that a test never sees one


def _ends(service: RunningService) -> dict[int, int]:
    """The channel topic's end offsets, as a relay's ring names them after publishing."""
    bootstrap = service.parts.settings.kafka_bootstrap_servers
    return asyncio.run(topic_end_offsets(bootstrap, topics.CHANNEL))


def _placed(orders: RunningService, order_id: object) -> bool:
    return orders.get_json(f"/v1/orders/{order_id}") is not None


def test_an_order_posted_to_the_gateway_reaches_a_dozing_order_service_by_its_ring(
    run_service, tmp_path: Path
) -> None:
    bells = str(tmp_path / "bells")
    orders = run_service(
        build_orders, OrderSettings, doorbell_dir=bells, doorbell_fallback_seconds=NEVER
    )
    gateway = run_service(
        build_gateway,
        GatewaySettings,
        doorbell_dir=bells,
        doorbell_fallback_seconds=NEVER,
        secrets_keys=SECRETS_KEY,
    )
    for number in range(3):
        answer = gateway.http.post("/v1/orders", json=canonical_order(external_id=f"bell-{number}"))
        assert answer.status_code in (200, 202), answer.text
        order_id = answer.json()["order_id"]
        eventually(lambda order_id=order_id: _placed(orders, order_id), timeout=20)


def test_a_message_whose_ring_was_lost_arrives_with_the_fallback_poll(
    run_service, tmp_path: Path
) -> None:
    orders = run_service(
        build_orders,
        OrderSettings,
        doorbell_dir=str(tmp_path / "bells"),
        doorbell_fallback_seconds=1.0,
    )
    received = factories.channel_order_received()
    orders.publish(received)  # put on the broker by hand: nobody rings
    eventually(lambda: _placed(orders, received.order_id), timeout=20)


@contextmanager
def _dozing_orders(run_service, tmp_path: Path) -> Iterator[tuple[RunningService, Doorbell]]:
    """An order service that read everything there was and dozes until rung (no fallback),
    with a doorbell to ring it."""
    bells = tmp_path / "bells"
    orders = run_service(
        build_orders, OrderSettings, doorbell_dir=str(bells), doorbell_fallback_seconds=NEVER
    )
    bell = Doorbell(bells)
    bell.open()
    try:
        warm_up = factories.channel_order_received()
        orders.publish(warm_up)  # read by its first fetch, or by the ring if it dozes already
        bell.ring(topics.CHANNEL, _ends(orders))
        eventually(lambda: _placed(orders, warm_up.order_id), timeout=30)
        time.sleep(0.5)  # it read everything there was: now dozing
        yield orders, bell
    finally:
        bell.close()


def test_a_dozing_consumer_fetches_nothing_until_rung_then_reads_everything(
    run_service, tmp_path: Path
) -> None:
    with _dozing_orders(run_service, tmp_path) as (orders, bell):
        first, second = factories.channel_order_received(), factories.channel_order_received()
        orders.publish(first, second)
        time.sleep(2)
        assert not _placed(orders, first.order_id), "it polled the broker while dozing"

        bell.ring(topics.CHANNEL, _ends(orders))
        eventually(lambda: _placed(orders, first.order_id) and _placed(orders, second.order_id))


def test_news_on_many_partitions_at_once_is_all_read_before_the_consumer_dozes_again(
    run_service, tmp_path: Path
) -> None:
    """One fetch may answer for some of the partitions a ring resumed: the consumer goes on
    fetching the others rather than dozing with their news unread (seen: an order waited for
    the fallback poll, a second or more, at 5 orders/s)."""
    with _dozing_orders(run_service, tmp_path) as (orders, bell):
        received = [factories.channel_order_received() for _ in range(40)]
        orders.publish(*received)
        bell.ring(topics.CHANNEL, _ends(orders))
        eventually(lambda: all(_placed(orders, r.order_id) for r in received), timeout=30)
