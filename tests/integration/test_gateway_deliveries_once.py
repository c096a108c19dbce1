"""News to channels goes out once, also when an attempt crashes or two gateways deliver at once:
each attempt is claimed in the event store before the channel is called, and no attempt starts
for a delivery whose attempt is still in flight. Fake WooCommerce over real HTTP."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from services.channel_gateway import integration
from services.channel_gateway.domain import DeliveryStatus, delivery_id_for, order_id_for
from services.channel_gateway.workers.deliveries import DeliveryWorker
from shared import events as ev
from tests import factories
from tests.factories_channel_gateway import refunded
from tests.fakes import payloads as p
from tests.fakes.harness import Gateway
from tests.fakes.woocommerce import KEY, SECRET, FakeWooCommerce
from tests.kit import apply

pytestmark = pytest.mark.integration
WEBHOOK_SECRET = "w"
SLOW = 1.0  # seconds the store takes to answer a list of refunds


@pytest.fixture(scope="module")
def woo() -> Iterator[FakeWooCommerce]:
    fake = FakeWooCommerce().start()
    yield fake
    fake.stop()


@pytest.fixture
def slow_refund_lists(woo: FakeWooCommerce) -> Iterator[None]:
    """The store answers its refund lists slowly: an attempt stays in flight a while."""
    woo.slow_answers(SLOW, "/refunds")
    yield
    woo.slow_answers(0, "")


def connected_gateway(database_url: str, woo: FakeWooCommerce) -> Gateway:
    gw = Gateway(database_url)
    gw.register(
        {
            "channel_id": "woo-de",
            "kind": "woocommerce",
            "base_url": woo.url,
            "consumer_key": KEY,
            "consumer_secret": SECRET,
            "webhook_secret": WEBHOOK_SECRET,
            "sku_mapping": p.WOO_SKUS,
        }
    )
    return gw


def woo_order(gw: Gateway, woo: FakeWooCommerce, number: int) -> uuid.UUID:
    """An order the store has and pushed to the gateway."""
    woo.add_order(p.woo_order(number))
    body = p.dumps(p.woo_order(number))
    headers = p.woo_headers(body, WEBHOOK_SECRET, f"delivery-{number}")
    response = gw.http.post("/v1/webhooks/woocommerce/woo-de", content=body, headers=headers)
    assert response.status_code in (200, 202), response.text
    return order_id_for("woo-de", str(number))


def schedule(gw: Gateway, *news: ev.Refunded | ev.Shipped) -> None:
    """The news arrives as the consumer applies it; the delivery view shows it due."""
    apply(gw.app, integration.CONSUMES, *news)
    gw.catch_up()


def run_worker_until(worker: DeliveryWorker, done: Callable[[], bool], then: float) -> None:
    """Run the delivery worker's loop until `done`, and `then` seconds more."""

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        deadline = time.monotonic() + 30
        while not await asyncio.to_thread(done):
            assert time.monotonic() < deadline, "the deliveries never got through"
            assert not task.done(), "the delivery worker stopped"
            await asyncio.sleep(0.05)
        await asyncio.sleep(then)
        stop.set()
        await task

    asyncio.run(main())


def refuse_outcomes_of(database_url: str, delivery_id: uuid.UUID) -> None:
    """PostgreSQL refuses to store how this delivery's attempts ended (claims still pass)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION refuse_outcome() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF NEW.originator_id = '{delivery_id}' AND NEW.topic NOT LIKE '%AttemptStarted'"
            " THEN RAISE EXCEPTION 'could not extend file: No space left on device'; END IF;"
            " RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse_outcome BEFORE INSERT ON channelorders_events"
            " FOR EACH ROW EXECUTE FUNCTION refuse_outcome()"
        )


def test_an_attempt_that_raises_does_not_start_the_others_again_while_they_are_in_flight(
    new_database: Any, woo: FakeWooCommerce, slow_refund_lists: None
):
    url = new_database("gw_once")
    gw = connected_gateway(url, woo)
    try:
        first, second, crashing = (woo_order(gw, woo, n) for n in (4811, 4812, 4813))
        refunds = [refunded(o, "MUG-ENM-350-WHT", "14.50") for o in (first, second)]
        shipment = factories.shipped(crashing, {"TEE-ORG-BLK-M": 1}, tracking_number="JJD4813")
        schedule(gw, *refunds, shipment)
        refuse_outcomes_of(url, delivery_id_for(crashing, "shipment", str(shipment.shipment_id)))

        def refunds_delivered() -> bool:
            return all(
                gw.app.deliveries.get(
                    delivery_id_for(r.order_id, "refund", str(r.refund_id))
                ).status
                == DeliveryStatus.DELIVERED
                for r in refunds
            )

        # The shipment's attempt raises at once while both refunds wait for the store.
        run_worker_until(gw.parts.deliveries, refunds_delivered, then=2.5 * SLOW)

        assert [len(woo.refunds[n]) for n in (4811, 4812)] == [1, 1]
        # Each refund was attempted once: its check ran once, never again while in flight.
        assert [len(woo.sent("GET", f"/orders/{n}/refunds")) for n in (4811, 4812)] == [1, 1]
        # The crashed attempt reached the store once; its claim keeps it from a rerun until
        # the lease runs out (then the store's own check finds the tracking number there).
        assert [t["tracking_number"] for t in woo.trackings[4813]] == ["JJD4813"]
    finally:
        gw.close()


def test_two_gateways_delivering_the_same_refund_make_exactly_one_refund_at_the_store(
    new_database: Any, woo: FakeWooCommerce, slow_refund_lists: None
):
    url = new_database("gw_twice")
    one = connected_gateway(url, woo)
    other = Gateway(url)  # a second instance on the same database, e.g. a fenced-out leader
    try:
        order_id = woo_order(one, woo, 4821)
        refund = refunded(order_id, "MUG-ENM-350-WHT", "14.50")
        schedule(one, refund)

        async def both() -> list[int]:
            workers = [one.parts.deliveries, other.parts.deliveries]
            async with workers[0].http_client() as a, workers[1].http_client() as b:
                return list(
                    await asyncio.gather(workers[0].process_due(a), workers[1].process_due(b))
                )

        attempted = asyncio.run(both())

        (made,) = woo.refunds[4821]
        assert {"key": "_oms_refund_id", "value": str(refund.refund_id)} in made["meta_data"]
        assert sorted(attempted) == [0, 1]  # one claimed it; the other found it held
        delivery = other.app.deliveries.get(
            delivery_id_for(order_id, "refund", str(refund.refund_id))
        )
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
    finally:
        other.close()
        one.close()
