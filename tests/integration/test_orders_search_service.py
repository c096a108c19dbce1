"""Order search on the order service's API and read model, on real PostgreSQL: names in any
script, e-mails in any case, SKUs, date ranges at their edges, cursor pages, bad parameters."""

from __future__ import annotations

import base64
from datetime import UTC, timedelta, timezone
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from services.order_service import views
from services.order_service.bootstrap import build
from services.order_service.domain import order_id_for
from services.order_service.settings import Settings
from tests import factories

pytestmark = pytest.mark.integration


@pytest.fixture
def service(new_database):
    parts = build(Settings(database_url=new_database("search")))
    yield parts
    parts.close()


@pytest.fixture
def http(service):
    return TestClient(service.api_factory({}))


def place(service, external_id: str, *, name: str = "Ann Example", email: str = "ann@example.com",
          skus: dict[str, int] | None = None, number: str | None = None) -> UUID:  # fmt: skip
    """An order from the web channel by this customer, projected."""
    order_id = order_id_for("web", external_id)
    service.app.place_order(
        order_id,
        "web",
        external_id,
        factories.customer(name=name, email=email),
        factories.address(name=name),
        factories.lines(skus or {"TEE": 1}),
        "EUR",
        facts={"channel_order_number": number} if number else None,
    )
    service.projections[0].catch_up()
    return order_id


def found(http, **params) -> list[str]:
    answer = http.get("/v1/orders", params=params)
    assert answer.status_code == 200, answer.text
    return [o["order_id"] for o in answer.json()["data"]]


def test_a_thai_a_japanese_and_a_cyrillic_customer_are_found_by_a_part_of_their_name(service, http):
    thai = place(service, "th", name="สมชาย ใจดี")
    japanese = place(service, "jp", name="山田太郎")
    katakana = place(service, "kana", name="ヤマダ タロウ")
    russian = place(service, "ru", name="Ольга Петрова")
    place(service, "en", name="Ann Example")

    assert found(http, q="ใจดี") == [str(thai)]
    assert found(http, q="山田") == [str(japanese)]  # two characters: shorter than a trigram
    assert found(http, q="太郎") == [str(japanese)]
    assert found(http, q="ﾀﾛｳ") == [str(katakana)]  # half-width katakana, as some keyboards type
    assert found(http, q="ПЕТРОВ") == [str(russian)]
    assert found(http, q="петрова") == [str(russian)]
    assert found(http, q="ЛЬГА  П") == [str(russian)]  # across the space (spaces run into one)
    assert found(http, q="าย ใจ") == [str(thai)]
    assert found(http, q="%") == []  # a LIKE wildcard is a character like any other
    assert found(http, q="山") == []  # a part is two characters at least


def test_an_email_matches_in_any_case_whole_or_in_part(service, http):
    olga = place(service, "o1", email="Olga.Petrova@Example.RU")
    place(service, "o2", email="olga@example.com")

    assert found(http, email="olga.petrova@example.ru") == [str(olga)]
    assert found(http, email="OLGA.PETROVA@EXAMPLE.RU") == [str(olga)]
    assert found(http, email="olga.petrova@example") == []  # the e-mail filter is the whole one
    assert found(http, q="PETROVA@") == [str(olga)]


def test_an_order_is_found_by_one_of_its_skus_also_one_an_edit_added(service, http):
    both = place(service, "s1", skus={"TEE": 1, "MUG": 2})
    tees = place(service, "s2", skus={"TEE": 3})

    assert found(http, sku="MUG") == [str(both)]
    assert found(http, sku="TEE") == [str(tees), str(both)]
    assert found(http, sku="mug") == []  # SKUs are matched exactly

    service.app.edit_lines(both, [], [{"sku": "CAP", "quantity": 1, "unit_price": "5.00"}], "ops")
    service.projections[0].catch_up()
    assert found(http, sku="CAP") == [str(both)]


def test_q_finds_an_order_by_its_id_its_number_at_the_channel_and_its_external_id(service, http):
    order = place(service, "EXT-77", number="#1001")
    place(service, "EXT-78", number="#1002")

    for q in (str(order), "#1001", "1001", "EXT-77"):
        assert found(http, q=q) == [str(order)], q
    assert found(http, q="100") == []  # numbers and ids match whole


def test_a_date_range_takes_its_start_and_leaves_out_its_end(service, http):
    first, second, third = (place(service, f"d{n}") for n in range(3))
    at = {o: service.projections[0].view.get_order(o)["placed_at"] for o in (first, second, third)}

    assert found(http, placed_from=at[second].isoformat()) == [str(third), str(second)]
    assert found(http, placed_to=at[second].isoformat()) == [str(first)]
    between = {"placed_from": at[first].isoformat(), "placed_to": at[third].isoformat()}
    assert found(http, **between) == [str(second), str(first)]
    # The same moment in Tokyo's offset, or as Z, is the same edge.
    tokyo = at[second].astimezone(timezone(timedelta(hours=9))).isoformat()
    assert found(http, placed_from=tokyo) == [str(third), str(second)]
    zulu = at[second].astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert found(http, placed_to=zulu) == [str(first)]


def test_cursor_pages_give_every_order_once_while_new_orders_come_in(service, http):
    before = {str(place(service, f"p{n}")) for n in range(7)}
    seen: list[str] = []
    answer = http.get("/v1/orders", params={"limit": 3}).json()
    seen += [o["order_id"] for o in answer["data"]]
    newer = {str(place(service, f"new{n}")) for n in range(2)}  # between the pages
    while answer["next_cursor"]:
        answer = http.get("/v1/orders", params={"limit": 3, "cursor": answer["next_cursor"]})
        answer = answer.json()
        seen += [o["order_id"] for o in answer["data"]]

    assert sorted(seen) == sorted(before)  # each once, and none of the newer ones
    assert answer["count"] == 9  # what matches now, the cursor aside
    first = http.get("/v1/orders", params={"limit": 9}).json()
    assert {o["order_id"] for o in first["data"][:2]} == newer  # newest first
    assert first["next_cursor"] is None


def test_a_count_stops_at_its_cap_and_says_so(service, http, monkeypatch):
    monkeypatch.setattr(views, "MAX_COUNT", 3)
    for n in range(4):
        place(service, f"c{n}")
    page = http.get("/v1/orders", params={"limit": 2}).json()
    assert (page["count"], page["count_capped"]) == (3, True)
    page = http.get("/v1/orders", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(page["data"]) == 2 and page["next_cursor"] is None  # the pages go on past it
    assert http.get("/v1/orders", params={"q": "c1"}).json()["count_capped"] is False
    # Past the cap a part of a name is looked for without its grams: the same orders.
    broad = http.get("/v1/orders", params={"q": "EXAMPLE", "limit": 3}).json()
    assert (broad["count"], broad["count_capped"], len(broad["data"])) == (3, True, 3)
    rest = http.get("/v1/orders", params={"q": "EXAMPLE", "cursor": broad["next_cursor"]})
    assert len(rest.json()["data"]) == 1


def test_a_cursor_page_keeps_its_filters(service, http):
    mugs = [str(place(service, f"m{n}", skus={"MUG": 1})) for n in range(5)]
    place(service, "t", skus={"TEE": 1})
    page = http.get("/v1/orders", params={"sku": "MUG", "limit": 2}).json()
    ids = [o["order_id"] for o in page["data"]]
    while page["next_cursor"]:
        page = http.get(
            "/v1/orders", params={"sku": "MUG", "limit": 2, "cursor": page["next_cursor"]}
        ).json()
        ids += [o["order_id"] for o in page["data"]]
    assert ids == mugs[::-1]


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": _cursor('["yesterday", "x"]')},
        {"cursor": _cursor('{"a": 1}')},
        {"cursor": _cursor(f'["2026-01-01T00:00:00", "{UUID(int=0)}"]')},  # no offset
        {"placed_from": "yesterday"},
        {"placed_from": "0.5"},  # not 1970
        {"placed_from": "2026-03-01"},  # a time needs its time
        {"placed_to": "2026-03-01T00:00:00"},  # and its offset
        {"placed_to": "2026-02-30"},
        {"placed_from": "2026-03-02T00:00:00Z", "placed_to": "2026-03-01T00:00:00Z"},
        {"limit": 0},
        {"limit": 201},
        {"q": ""},
        {"cursor": _cursor(f'["2026-01-01T00:00:00+00:00", "{UUID(int=0)}"]'), "offset": 3},
    ],
)
def test_bad_search_parameters_are_a_422_problem(http, params):
    answer = http.get("/v1/orders", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["loc"][0] == "query"


def test_an_order_view_built_before_search_is_rebuilt_with_it(service, http):
    order = place(service, "old", name="Ольга Петрова", skus={"MUG": 1})
    view = service.projections[0].view
    with view.datastore.transaction(commit=True) as curs:  # as a view built before search
        curs.execute("UPDATE order_view SET customer_name_folded = '', skus = '{}'")
        curs.execute("UPDATE view_versions SET version = 0")
    assert found(http, sku="MUG") == []

    service.projections[0].catch_up()
    assert found(http, sku="MUG") == [str(order)]
    assert found(http, q="ольга") == [str(order)]
    assert len(view.get_order(order)["timeline"]) == 1


def test_the_search_parameters_are_documented(http):
    spec = http.get("/openapi.json").json()
    parameters = {p["name"]: p for p in spec["paths"]["/v1/orders"]["get"]["parameters"]}
    for name in ("q", "email", "sku", "placed_from", "placed_to", "cursor"):
        assert parameters[name].get("description"), name
    assert {"status", "channel", "payment_state", "limit", "offset"} <= set(parameters)
    page = spec["components"]["schemas"]["OrdersPublic"]["properties"]
    assert "next_cursor" in page
