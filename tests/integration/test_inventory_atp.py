"""Safety stock and ATP over HTTP on PostgreSQL: per location, per channel, the basket check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.inventory_service.bootstrap import build
from services.inventory_service.settings import ChannelStock, Settings
from shared import events as ev
from shared.runtime.service import ServiceParts

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
CHANNELS = {
    "shopify-eu": ChannelStock(
        locations=["berlin", "venlo"], buffer_units=2, buffer_percent=10, allocation=50
    ),
    "small": ChannelStock(allocation=3),
}


@pytest.fixture
def parts(new_database: Callable[..., str]) -> Iterator[ServiceParts]:
    """The inventory service's parts with two channels configured."""
    built: ServiceParts = build(
        Settings(database_url=new_database("atp"), aggregate_cache_size=100, channels=CHANNELS)
    )
    yield built
    built.close()


def told(parts: ServiceParts) -> list[ev.ChannelAvailabilityChanged]:
    """Every ChannelAvailabilityChanged the relay would publish, oldest first."""
    app = parts.app
    found = [
        parts.events.to_integration(app.mapper.to_domain_event(n))
        for n in app.recorder.select_notifications(1, 100_000)
    ]
    return [e for e in found if isinstance(e, ev.ChannelAvailabilityChanged)]


def test_closing_a_location_and_publishing_tell_channels_on_postgres(parts: ServiceParts) -> None:
    with TestClient(parts.api_factory({})) as http:
        for location_id in ("berlin", "venlo"):
            body = {"location_id": location_id, "name": location_id, "country": "DE"}
            assert http.post("/v1/locations", json=body | {"priority": 1}).is_success
        receive(http, "berlin", "A", 20)
        receive(http, "venlo", "A", 10)
        last = told(parts)[-1]
        small = {c.channel: c.available for c in last.channels}
        assert small == {"*": 30, "shopify-eu": 25, "small": 3}
        for projection in parts.projections:
            projection.catch_up()  # the SKUs at a location are read from the view
        assert http.post("/v1/locations/berlin/deactivate").is_success
        last = told(parts)[-1]
        assert {c.channel: c.available for c in last.channels}["*"] == 10
        berlin = [s for c in last.channels for s in c.locations if s.location_id == "berlin"]
        assert {s.available for s in berlin} == {0}
        before = len(told(parts))
        answer = http.post("/v1/atp/publish", json={})
        assert answer.json() == {"skus": 1, "changed": 0}  # nothing new to tell
        assert len(told(parts)) == before
        assert http.post("/v1/atp/publish", json={"skus": ["bad sku!"]}).status_code == 422


@pytest.fixture
def client(new_database: Callable[..., str]) -> Iterator[TestClient]:
    """The inventory service with two channels configured, and three locations."""
    parts: ServiceParts = build(
        Settings(database_url=new_database("atp"), aggregate_cache_size=100, channels=CHANNELS)
    )
    with TestClient(parts.api_factory({})) as http:
        for location_id, country, priority in (
            ("berlin", "DE", 20),
            ("hamburg", "DE", 10),
            ("venlo", "NL", 1),
        ):
            body = {"location_id": location_id, "name": location_id, "country": country}
            assert http.post("/v1/locations", json=body | {"priority": priority}).is_success
        yield http
    parts.close()


def receive(http: TestClient, location_id: str, sku: str, quantity: int) -> None:
    body = {"location_id": location_id, "sku": sku, "quantity": quantity}
    assert http.post("/v1/stock/receipts", json=body).status_code == 201


def safety(http: TestClient, sku: str, location_id: str, quantity: int) -> Any:
    return http.put(
        f"/v1/stock/{sku}/safety-stock", json={"location_id": location_id, "quantity": quantity}
    )


def test_safety_stock_is_shown_on_the_stock_and_lowers_atp(client: TestClient) -> None:
    receive(client, "hamburg", "A", 10)
    receive(client, "berlin", "A", 4)
    response = safety(client, "A", "hamburg", 3)
    assert response.status_code == 200, response.text
    rows = client.get("/v1/stock/A").json()["locations"]
    assert {row["location_id"]: row["safety_stock"] for row in rows} == {"berlin": 0, "hamburg": 3}
    atp = client.get("/v1/atp/A").json()
    assert atp["locations"] == [
        {"location_id": "berlin", "atp": 4},
        {"location_id": "hamburg", "atp": 7},
    ]
    assert atp["total"] == 11 and atp["channel_atp"] is None
    assert safety(client, "A", "hamburg", 0).status_code == 200  # 0 clears it
    assert client.get("/v1/atp/A").json()["total"] == 14


def test_a_channel_is_told_its_locations_less_buffer_capped(client: TestClient) -> None:
    receive(client, "berlin", "A", 30)
    receive(client, "venlo", "A", 40)
    receive(client, "hamburg", "A", 100)
    safety(client, "A", "venlo", 10)
    # berlin 30 + venlo 30 = 60; less 2 units and 10 % (6) = 52; capped at 50.
    assert client.get("/v1/atp/A?channel=shopify-eu").json()["channel_atp"] == 50
    assert client.post("/v1/locations/berlin/deactivate").is_success
    # venlo 30 only: 30 - 2 - 3 = 25; berlin counts nowhere, not in the total either.
    atp = client.get("/v1/atp/A", params={"channel": "shopify-eu"}).json()
    assert atp["channel_atp"] == 25 and atp["total"] == 130
    assert {row["location_id"] for row in atp["locations"]} == {"hamburg", "venlo"}
    # A channel not configured sells every open location, without buffer or cap.
    assert client.get("/v1/atp/A?channel=other").json()["channel_atp"] == 130


def test_the_basket_check_says_where_it_would_ship_and_reserves_nothing(
    client: TestClient,
) -> None:
    receive(client, "hamburg", "A", 5)
    receive(client, "berlin", "B", 5)
    receive(client, "venlo", "A", 5)
    body = {"lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]}
    answer = client.post("/v1/atp/check", json=body | {"ship_to": {"country": "DE"}}).json()
    assert answer["available"] is True and answer["split"] is True
    assert answer["locations"] == ["hamburg", "berlin"]
    assert client.get("/v1/stock/A").json()["total"]["reserved"] == 0
    # Safety stock at hamburg leaves venlo the only location for A's ATP.
    safety(client, "A", "hamburg", 5)
    answer = client.post("/v1/atp/check", json=body | {"ship_to": {"country": "DE"}}).json()
    assert answer["locations"] == ["venlo", "berlin"]
    # The small channel may sell 3 of B at most.
    short = client.post(
        "/v1/atp/check", json={"lines": [{"sku": "B", "quantity": 4}], "channel": "small"}
    ).json()
    assert short["available"] is False and short["allocations"] == []
    assert short["shortages"] == [{"sku": "B", "requested": 4, "available": 3}]


def test_bad_atp_input_is_a_problem_not_a_500(client: TestClient) -> None:
    receive(client, "hamburg", "A", 5)
    for response in (
        safety(client, "A", "nowhere", 1),
        safety(client, "A", "hamburg", -1),
        safety(client, "A", "hamburg", 10**12),
        client.post("/v1/atp/check", json={"lines": []}),
        client.post("/v1/atp/check", json={"lines": [{"sku": "A", "quantity": 0}]}),
        client.get("/v1/atp/NEVER"),
        client.get("/v1/atp/A?channel=" + "x" * 65),
    ):
        assert response.status_code in (404, 422), response.text
        assert response.headers["content-type"] == PROBLEM
