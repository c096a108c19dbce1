"""The catalogue over HTTP on real PostgreSQL: put, get, search, problems (ItemChanged reaching
fulfillment through the broker: test_fulfillment_catalogue_service.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.inventory_service.bootstrap import build, service_events
from services.inventory_service.settings import Settings
from shared import events as ev
from shared.runtime.service import ServiceParts

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
EAN13 = "4006381333931"
UPC_A = "036000291452"


@pytest.fixture
def service(new_database: Callable[..., str]) -> Iterator[tuple[ServiceParts, TestClient]]:
    """The inventory service on a fresh database, and its HTTP client."""
    parts = build(Settings(database_url=new_database("catalogue")))
    with TestClient(parts.api_factory({})) as client:
        yield parts, client
    parts.close()


def catch_up(parts: ServiceParts) -> None:
    for projection in parts.projections:
        projection.catch_up()


def recorded(parts: ServiceParts) -> int:
    return parts.app.recorder.max_notification_id() or 0


def published(parts: ServiceParts, after: int = 0) -> list[Any]:
    events = service_events()
    app = parts.app
    notifications = app.recorder.select_notifications(after + 1, 10_000)
    mapped = [events.to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [e for e in mapped if e is not None]


TEE: dict[str, Any] = {
    "name": "Organic cotton tee",
    "variant": "Black / M",
    "gtins": [EAN13],
    "weight_grams": 180,
    "dimensions_mm": {"length": 300, "width": 220, "height": 20},
    "hs_code": "6109.10",
    "country_of_origin": "PT",
}


def test_a_put_creates_an_item_and_the_same_put_again_changes_nothing(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    created = client.put("/v1/items/TEE-BLK-M", json=TEE)
    assert created.status_code == 201, created.text
    assert created.json() == {
        **TEE,
        "hs_code": "610910",
        "sku": "TEE-BLK-M",
        "version": 1,
        "created": True,
        "changed": True,
    }
    mark = recorded(parts)
    again = client.put("/v1/items/TEE-BLK-M", json=TEE)
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["changed"]) == (False, False)
    assert recorded(parts) == mark

    lighter = client.put("/v1/items/TEE-BLK-M", json={**TEE, "weight_grams": 175})
    assert lighter.status_code == 200
    assert lighter.json()["changed"] is True
    assert lighter.json()["version"] == 2
    [changed] = published(parts, mark)
    assert isinstance(changed, ev.ItemChanged)
    assert (changed.sku, changed.weight_grams, changed.created) == ("TEE-BLK-M", 175, False)

    fetched = client.get("/v1/items/TEE-BLK-M")
    assert fetched.status_code == 200
    assert fetched.json()["weight_grams"] == 175


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("gtins", ["4006381333932"], "GTIN"),
        ("gtins", ["12345"], "gtins"),
        ("country_of_origin", "ZZ", "ISO 3166"),
        ("hs_code", "12", "HS code"),
        ("weight_grams", -5, "weight_grams"),
        ("weight_grams", 10**12, "weight_grams"),
        ("dimensions_mm", {"length": 0, "width": 1, "height": 1}, "length"),
        ("name", "   ", "name"),
        ("colour", "red", "colour"),
    ],
)
def test_bad_details_are_a_422_problem_and_nothing_is_recorded(
    service: tuple[ServiceParts, TestClient], field: str, value: Any, says: str
) -> None:
    parts, client = service
    before = recorded(parts)
    response = client.put("/v1/items/TEE", json={**TEE, field: value})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert says in response.text
    assert recorded(parts) == before


def test_a_gtin_of_another_sku_is_a_409_problem_naming_it_and_nothing_is_recorded(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    assert client.put("/v1/items/TEE", json=TEE).status_code == 201
    before = recorded(parts)
    response = client.put("/v1/items/MUG", json={**TEE, "name": "Mug", "gtins": ["0" + EAN13]})
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "TEE" in response.json()["detail"]
    assert recorded(parts) == before
    assert client.get("/v1/items/MUG").status_code == 404


def test_a_bad_sku_in_the_path_is_a_422_and_an_unknown_one_a_404(
    service: tuple[ServiceParts, TestClient],
) -> None:
    _, client = service
    assert client.put("/v1/items/T%20E", json=TEE).status_code == 422
    missing = client.get("/v1/items/NOPE")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM


def test_search_finds_items_by_name_in_any_script_by_sku_and_by_gtin_of_any_length(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    items = {
        "TEE-BLK-M": TEE,
        "TEA-TH-100": {"name": "ชาไทย ใบชา 100 กรัม", "gtins": [UPC_A], "country_of_origin": "TH"},
        "TEA-JP-50": {"name": "抹茶 宇治", "variant": "50 g 缶"},
        "PCT-100": {"name": "100% merino_wool socks"},
    }
    for sku, body in items.items():
        assert client.put(f"/v1/items/{sku}", json=body).status_code == 201
    catch_up(parts)

    def found(search: str | None = None, **page: int) -> list[str]:
        params: dict[str, Any] = {**page, **({"search": search} if search else {})}
        response = client.get("/v1/items", params=params)
        assert response.status_code == 200, response.text
        return [row["sku"] for row in response.json()["data"]]

    assert found() == ["PCT-100", "TEA-JP-50", "TEA-TH-100", "TEE-BLK-M"]
    assert found("ชาไทย") == ["TEA-TH-100"]
    assert found("宇治") == ["TEA-JP-50"]
    assert found("缶") == ["TEA-JP-50"]
    assert found("cotton") == ["TEE-BLK-M"]
    assert found("tea-") == ["TEA-JP-50", "TEA-TH-100"]
    assert found(EAN13) == ["TEE-BLK-M"]
    assert found("0" + UPC_A) == ["TEA-TH-100"]  # the same barcode read as EAN-13
    # LIKE's wildcards are searched for as themselves.
    assert found("100%") == ["PCT-100"]
    assert found("c_s") == []  # as a wildcard it would match "socks"
    assert found("_") == ["PCT-100"]

    page = client.get("/v1/items", params={"limit": 2, "offset": 2}).json()
    assert (page["count"], page["limit"], page["offset"]) == (4, 2, 2)
    assert [r["sku"] for r in page["data"]] == ["TEA-TH-100", "TEE-BLK-M"]
    assert page["data"][1]["dimensions_mm"] == TEE["dimensions_mm"]
    assert client.get("/v1/items", params={"limit": 0}).status_code == 422
    assert client.get("/v1/items", params={"search": "x" * 201}).status_code == 422


def test_the_catalogue_view_is_rebuilt_from_the_log(
    service: tuple[ServiceParts, TestClient],
) -> None:
    parts, client = service
    client.put("/v1/items/TEE", json=TEE)
    client.put("/v1/items/TEE", json={**TEE, "name": "เสื้อยืด"})
    catch_up(parts)
    [projection] = parts.projections
    projection.view.reset_all(projection.name)
    catch_up(parts)
    [row] = client.get("/v1/items", params={"search": "เสื้อ"}).json()["data"]
    assert (row["sku"], row["version"]) == ("TEE", 2)
