"""The DLQ is not a dead end: parked messages are kept in the consumer's own PostgreSQL with their
reason, listed by the ops API and `oms dlq`, replayed exactly once after the cause is fixed, or
discarded on record. Readers are tolerant and failovers are waited out, so neither parks.

The order service is the subject: it consumes ChannelOrderReceived from oms.channel.v1.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi.testclient import TestClient
from psycopg import sql
from rich.console import Console
from typer.testing import CliRunner

from services.order_service.bootstrap import build
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from shared import events as ev
from shared.cli import dlq as dlq_cli
from shared.cli.main import create_app
from shared.events import topics
from shared.events.codec import encode
from shared.runtime.application import ServiceApplication, UnitOfWork
from tests import factories
from tests.kit import ADMIN_TOKEN, CLI_ENV, RunningService, bearer, eventually, settings_for_tests

pytestmark = pytest.mark.integration
REASON = "RuntimeError: no carrier rate table for DE"
SERVICES = (
    "channel_gateway",
    "order_service",
    "inventory_service",
    "fulfillment_service",
    "returns_service",
)
RETRIES = re.compile(r'^oms_transient_retries_total\{worker="consumer"\} ([0-9.e+]+)$', re.M)


class BrokenHandler:
    """The order service's own handler with a bug that hits some orders until it is fixed."""

    def __init__(self, handler: Any, *orders: ev.ChannelOrderReceived) -> None:
        self.handler = handler
        self.hits = {order.order_id for order in orders}
        self.fixed = False

    def __call__(self, app: ServiceApplication, event: Any, uow: UnitOfWork) -> None:
        if not self.fixed and event.order_id in self.hits:
            raise RuntimeError("no carrier rate table for DE")
        self.handler(app, event, uow)


@pytest.fixture
def cli(monkeypatch) -> Any:
    """`oms dlq ...` as an operator types it; the output wide enough to read whole."""
    monkeypatch.setattr(dlq_cli, "console", Console(width=400))

    def run(orders: RunningService, *args: str) -> Any:
        url = f"order_service={orders.http.base_url}"
        return CliRunner(env=CLI_ENV).invoke(create_app(), ["dlq", *args, "--url", url])

    return run


def _order(orders: RunningService, event: ev.ChannelOrderReceived) -> Any:
    return orders.get_json(f"/v1/orders/{event.order_id}")


def _park(run_service, monkeypatch) -> tuple[RunningService, BrokenHandler, Any, Any]:
    """The order service with a handler bug; a hit order parked, the next one applied."""
    bad, good = factories.channel_order_received(), factories.channel_order_received()
    broken = BrokenHandler(CONSUMES[ev.ChannelOrderReceived], bad)
    monkeypatch.setitem(CONSUMES, ev.ChannelOrderReceived, broken)
    orders = run_service(build, Settings)
    orders.publish_at(bad, position=1, predecessor=0)
    orders.publish_at(good, position=2, predecessor=1)  # same partition, right behind it
    eventually(lambda: _order(orders, good))
    return orders, broken, bad, good


def _parked_rows(orders: RunningService) -> list[dict[str, Any]]:
    url = orders.parts.settings.database_url
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute("SELECT * FROM parked_messages ORDER BY id").fetchall()


def test_a_message_whose_handler_fails_is_parked_in_postgresql_and_listed_by_api_and_cli(
    run_service, monkeypatch, cli
):
    orders, _, bad, _ = _park(run_service, monkeypatch)

    # Kept in the service's own database, in its place in the chain, with the reason.
    [row] = eventually(lambda: _parked_rows(orders))
    assert row["status"] == "parked" and row["reason"] == REASON
    assert (row["topic"], row["partition"], row["source"], row["position"]) == (
        topics.CHANNEL,
        0,
        "channel_gateway",
        1,
    )
    assert row["event_type"] == "oms.ChannelOrderReceived.v1"
    assert row["key"] == str(bad.order_id).encode() and row["parked_at"] is not None
    assert _order(orders, bad) is None

    page = orders.get_json("/v1/dlq")
    assert page["count"] == 1 and page["data"][0]["reason"] == REASON
    shown = orders.get_json(f"/v1/dlq/{row['id']}")
    assert json.loads(shown["value"])["order_id"] == str(bad.order_id)
    assert shown["headers"]["ce_type"] == "oms.ChannelOrderReceived.v1"

    listed = cli(orders, "list")
    assert listed.exit_code == 0, listed.output
    assert REASON in listed.output and "oms.channel.v1" in listed.output
    assert re.search(rf"order_service\s*│\s*{row['id']}\s*│\s*parked", listed.output)

    # Still copied to the DLQ topic for tools that read topics.
    copies = asyncio.run(_read(orders.parts.settings.kafka_bootstrap_servers, "oms.channel.v1.dlq"))
    assert [dict(c.headers)["dlq_reason"].decode() for c in copies] == [REASON]


def test_after_the_fix_a_replay_applies_the_parked_message_exactly_once(
    run_service, monkeypatch, cli
):
    orders, broken, bad, _ = _park(run_service, monkeypatch)
    [row] = eventually(lambda: _parked_rows(orders))

    still_broken = orders.http.post(f"/v1/dlq/{row['id']}/replay", json={"by": "alice"})
    assert still_broken.status_code == 409, still_broken.text
    assert still_broken.headers["content-type"] == "application/problem+json"
    assert "no carrier rate table" in still_broken.json()["detail"]
    assert _parked_rows(orders)[0]["status"] == "parked"

    broken.fixed = True
    replayed = cli(orders, "replay", "order_service", str(row["id"]), "--by", "alice")
    assert replayed.exit_code == 0, replayed.output
    assert "replayed" in replayed.output
    # The read model follows the replayed events a moment later.
    # (None until the projection has the order: the replay is applied, the view follows)
    eventually(
        lambda: (
            [e["event"] for e in (_order(orders, bad) or {"timeline": []})["timeline"]]
            == ["Placed"]
        )
    )
    shown = orders.get_json(f"/v1/dlq/{row['id']}")
    assert shown["status"] == "replayed" and shown["resolved_by"] == "alice"
    stored = orders.stored()

    again = orders.http.post(f"/v1/dlq/{row['id']}/replay", json={"by": "bob"})
    assert again.status_code == 200 and again.json()["resolved_by"] == "alice"
    # As if the process died after applying, before recording the status: still only once.
    with psycopg.connect(orders.parts.settings.database_url) as conn:
        conn.execute("UPDATE parked_messages SET status = 'parked', resolved_by = NULL")
    assert orders.http.post(f"/v1/dlq/{row['id']}/replay", json={"by": "bob"}).is_success
    assert orders.stored() == stored
    assert [e["event"] for e in _order(orders, bad)["timeline"]] == ["Placed"]
    assert orders.get_json("/v1/dlq", status="parked")["count"] == 0


def test_a_discard_records_who_and_why_and_the_message_is_never_applied(
    run_service, monkeypatch, cli
):
    orders, broken, bad, _ = _park(run_service, monkeypatch)
    [row] = eventually(lambda: _parked_rows(orders))

    discarded = cli(
        orders,
        "discard",
        "order_service",
        str(row["id"]),
        "--by",
        "carol",
        "--reason",
        "test order, cancelled at the channel",
    )
    assert discarded.exit_code == 0, discarded.output

    shown = orders.get_json(f"/v1/dlq/{row['id']}")
    assert shown["status"] == "discarded" and shown["resolved_by"] == "carol"
    assert shown["resolution"] == "test order, cancelled at the channel"
    assert shown["resolved_at"] is not None
    broken.fixed = True
    refused = orders.http.post(f"/v1/dlq/{row['id']}/replay", json={"by": "dave"})
    assert refused.status_code == 409 and "carol" in refused.json()["detail"]
    assert _order(orders, bad) is None
    assert orders.get_json("/v1/dlq")["count"] == 1
    assert orders.get_json("/v1/dlq", status="parked")["count"] == 0


def test_the_dlq_api_answers_bad_input_with_problems_never_a_500(run_service):
    orders = run_service(build, Settings)
    for path in ("/v1/dlq/0", "/v1/dlq/99999999999999999999999", "/v1/dlq?status=lost"):
        assert orders.http.get(path).status_code == 422, path
    missing = orders.http.post("/v1/dlq/42/discard", json={"by": "erin", "reason": "x"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert orders.http.post("/v1/dlq/42/discard", json={"by": "erin"}).status_code == 422


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_serves_the_dead_letter_office(service, new_database):
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    settings = importlib.import_module(f"services.{service}.settings")
    parts = bootstrap.build(
        settings_for_tests(settings.Settings, database_url=new_database(service[:12]))
    )
    try:
        with TestClient(parts.http_api({}), headers=bearer(ADMIN_TOKEN)) as http:
            assert http.get("/v1/dlq").json()["count"] == 0
            paths = http.get("/openapi.json").json()["paths"]
    finally:
        parts.close()
    assert {"/v1/dlq", "/v1/dlq/{message_id}"} <= set(paths)
    assert {"/v1/dlq/{message_id}/replay", "/v1/dlq/{message_id}/discard"} <= set(paths)


def test_an_event_with_a_field_this_service_does_not_know_yet_is_applied_not_parked(
    run_service,
):
    orders = run_service(build, Settings)
    received = factories.channel_order_received()
    wire = encode(received, event_id="gw-1", service="channel_gateway", position=1)
    payload = json.loads(wire.value)
    payload["gift_message"] = "Happy birthday!"  # an additive change, upgraded publisher
    payload["lines"][0]["engraving"] = "A.E."  # nested, too
    bootstrap = orders.parts.settings.kafka_bootstrap_servers
    asyncio.run(_send(bootstrap, wire.key, json.dumps(payload).encode(), wire.headers))

    eventually(lambda: _order(orders, received))
    assert orders.get_json("/v1/dlq")["count"] == 0


def test_a_read_only_database_after_a_failover_is_waited_out_not_parked(run_service):
    orders = run_service(build, Settings)
    url = orders.parts.settings.database_url
    received = factories.channel_order_received()
    retries_before = _consumer_retries(orders)
    tracking = sql.Identifier(orders.app.process_recorder.tracking_table_name)
    with psycopg.connect(url, autocommit=True) as conn:
        # What a demoted primary answers every write with (SQLSTATE 25006).
        conn.execute(sql.SQL(READ_ONLY).format(table=tracking))

    orders.publish(received)
    eventually(lambda: _consumer_retries(orders) >= retries_before + 2)
    assert _order(orders, received) is None
    assert orders.get_json("/v1/dlq")["count"] == 0

    with psycopg.connect(url, autocommit=True) as conn:
        # The failover completes: writes go to the new primary.
        conn.execute(sql.SQL("DROP TRIGGER read_only ON {table}").format(table=tracking))
    eventually(lambda: _order(orders, received))
    assert orders.get_json("/v1/dlq")["count"] == 0


READ_ONLY = """
CREATE FUNCTION read_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'cannot execute INSERT in a read-only transaction'
        USING ERRCODE = 'read_only_sql_transaction';
END $$;
CREATE TRIGGER read_only BEFORE INSERT OR UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION read_only();
"""


def _consumer_retries(orders: RunningService) -> float:
    found = RETRIES.search(orders.http.get("/metrics").text)
    return float(found.group(1)) if found else 0.0


async def _send(bootstrap: str, key: bytes, value: bytes, headers: list) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.CHANNEL, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def _read(bootstrap: str, topic: str) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=1500)
        return [record for records in batches.values() for record in records]
    finally:
        await consumer.stop()
