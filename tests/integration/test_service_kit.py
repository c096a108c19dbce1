"""The test kit runs a service whole: published events reach its consumer, its API answers."""

from __future__ import annotations

import psycopg
import pytest

from services.order_service.bootstrap import build
from services.order_service.settings import Settings
from tests import factories
from tests.kit import eventually

pytestmark = pytest.mark.integration


def test_an_event_published_on_the_broker_becomes_an_order_the_api_shows(run_service):
    orders = run_service(build, Settings)
    received = factories.channel_order_received(external_id="KIT-1")

    orders.publish(received)

    order = eventually(lambda: orders.get_json(f"/v1/orders/{received.order_id}"))
    assert order["status"] == "placed"
    assert order["external_id"] == "KIT-1"


def test_a_republished_event_changes_nothing(run_service):
    orders = run_service(build, Settings)
    received = factories.channel_order_received(external_id="KIT-2")
    orders.publish(received)
    eventually(lambda: orders.get_json(f"/v1/orders/{received.order_id}"))

    orders.publish(received)  # a new position: the application's own dedupe must hold
    orders.publish(factories.channel_order_received(external_id="KIT-3"))

    eventually(lambda: orders.http.get("/v1/orders").json()["count"] == 2)
    order = orders.get_json(f"/v1/orders/{received.order_id}")
    assert [entry["event"] for entry in order["timeline"]] == ["Placed"]


def test_a_stopped_service_leaves_no_connection_to_its_database_open(
    run_service, postgres_server_url
):
    # The relay's pool once outlived the service: a test run of many services ran PostgreSQL
    # out of connections ("too many clients").
    orders = run_service(build, Settings)
    orders.publish(factories.channel_order_received())
    eventually(lambda: (orders.get_json("/v1/orders") or {}).get("count") == 1)
    database = orders.parts.settings.database_url.rsplit("/", 1)[1]

    orders.stop()

    def connections() -> int:
        with psycopg.connect(postgres_server_url, autocommit=True) as admin:
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
            ).fetchone()
        return int(row[0]) if row else 0

    assert eventually(lambda: connections() == 0, timeout=10)
