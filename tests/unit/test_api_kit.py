"""The API kit: bounded pages, typed components, domain errors with extra problem fields."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.runtime.api import (
    BodyLimitMiddleware,
    Page,
    PageQuery,
    api_factory,
    links,
    page_query,
    problems,
    provide,
)


class Shelf:
    """A component the API is given."""

    def __init__(self, items: list[str]) -> None:
        self.items = items


class ShelfEmptyError(Exception):
    """A domain error that names the shelf it is about."""

    def details(self) -> Mapping[str, object]:
        return {"shelf": "A-03"}


class Item(BaseModel):
    name: str


class ItemsPublic(Page[Item]):
    """A page of items."""


def _client() -> TestClient:
    router = APIRouter()

    @router.get("/items", response_model=ItemsPublic)
    def items(
        shelf: Shelf = provide(Shelf), page: PageQuery = page_query(default=2, maximum=3)
    ) -> ItemsPublic:
        chosen = shelf.items[page.offset : page.offset + page.limit]
        return ItemsPublic.of([Item(name=n) for n in chosen], len(shelf.items), page)

    @router.get("/empty")
    def empty() -> None:
        raise ShelfEmptyError("nothing on shelf A-03")

    build = api_factory(
        service="test",
        title="Test",
        routers=[router],
        error_statuses={ShelfEmptyError: (409, "Shelf empty")},
        provides=[Shelf(["a", "b", "c", "d"])],
    )
    return TestClient(build({}))


def test_a_page_uses_the_default_limit_and_reports_the_total():
    page = _client().get("/v1/items").json()
    assert page == {"data": [{"name": "a"}, {"name": "b"}], "count": 4, "limit": 2, "offset": 0}


def test_an_out_of_range_limit_or_offset_is_a_422_problem_never_a_500():
    http = _client()
    for params in ({"limit": 4}, {"limit": 0}, {"offset": -1}, {"offset": 10**30}):
        answer = http.get("/v1/items", params=params)
        assert answer.status_code == 422, params
        assert answer.headers["content-type"] == "application/problem+json"


def test_the_openapi_document_shows_the_bounds():
    spec = _client().get("/openapi.json").json()
    params = {p["name"]: p["schema"] for p in spec["paths"]["/v1/items"]["get"]["parameters"]}
    assert params["limit"]["maximum"] == 3 and params["offset"]["minimum"] == 0


def test_a_domain_error_with_details_puts_them_in_the_problem_document():
    answer = _client().get("/v1/empty")
    assert answer.status_code == 409
    assert answer.json()["shelf"] == "A-03"


class Label(BaseModel):
    text: str


def _shelf_api(shelf: Shelf) -> TestClient:
    """An API that records what reaches it, with a create linked to the GET by id."""
    router = APIRouter(prefix="/shelves")

    @router.post(
        "/{shelf_id}/labels",
        status_code=201,
        responses=problems(409) | links(201, "GET /v1/shelves/{shelf_id}"),
    )
    def label(shelf_id: str, body: Label, on: Shelf = provide(Shelf)) -> dict[str, str]:
        on.items.append(body.text)
        return {"shelf_id": shelf_id}

    @router.get("/{shelf_id}")
    def find(shelf_id: str, q: str | None = None, on: Shelf = provide(Shelf)) -> dict[str, str]:
        on.items.append(q or shelf_id)
        return {"shelf_id": shelf_id}

    return TestClient(api_factory(service="t", title="T", routers=[router], provides=[shelf])({}))


def test_nul_bytes_in_the_path_query_or_body_are_a_422_before_anything_runs():
    # PostgreSQL refuses NUL in text and jsonb: a NUL that got in was a 500, or a stuck projection.
    shelf = Shelf([])
    http = _shelf_api(shelf)
    refused = [
        http.get("/v1/shelves/A%0003"),
        http.get("/v1/shelves/A-03", params={"q": "a\x00b"}),
        http.post("/v1/shelves/A-03/labels", json={"text": "fragile\x00"}),
        http.post("/v1/shelves/A-03/labels", json={"text\x00": "fragile"}),
        http.post(
            "/v1/shelves/A-03/labels", content=b"text=a\x00", headers={"content-type": "text/plain"}
        ),
    ]
    for answer in refused:
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "NUL" in answer.json()["detail"]
    assert refused[2].json()["errors"][0]["loc"] == ["body", "text"]
    assert refused[1].json()["errors"][0]["loc"] == ["query", "q"]
    assert shelf.items == []


def test_a_literal_backslash_u0000_in_a_string_is_not_a_nul():
    shelf = Shelf([])
    answer = _shelf_api(shelf).post("/v1/shelves/A-03/labels", json={"text": "\\u0000"})
    assert answer.status_code == 201
    assert shelf.items == ["\\u0000"]


def test_a_method_the_path_does_not_have_is_a_405_that_lists_every_method_it_has():
    answer = _shelf_api(Shelf([])).request("DELETE", "/v1/shelves/A-03")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["allow"] == "GET"
    on_labels = _shelf_api(Shelf([])).request("TRACE", "/v1/shelves/A-03/labels")
    assert on_labels.headers["allow"] == "POST"


def test_every_error_answer_is_documented_as_a_problem_document():
    spec = _shelf_api(Shelf([])).get("/openapi.json").json()
    label = spec["paths"]["/v1/shelves/{shelf_id}/labels"]["post"]["responses"]
    find = spec["paths"]["/v1/shelves/{shelf_id}"]["get"]["responses"]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    # 404: an id in the path may name nothing; 422: any input may be bad; 409: as declared.
    assert {s: label[s]["content"] for s in ("404", "409", "422")} == dict.fromkeys(
        ("404", "409", "422"), problem
    )
    assert find["404"]["content"] == problem and "409" not in find
    schemas = spec["components"]["schemas"]
    assert {"type", "title", "status", "detail", "instance"} <= set(
        schemas["Problem"]["properties"]
    )
    assert "HTTPValidationError" not in schemas


def test_a_create_links_to_the_operation_behind_the_id_it_answers():
    spec = _shelf_api(Shelf([])).get("/openapi.json").json()
    created = spec["paths"]["/v1/shelves/{shelf_id}/labels"]["post"]["responses"]["201"]
    assert created["links"] == {
        "get_shelves_shelf_id": {
            "operationRef": "#/paths/~1v1~1shelves~1{shelf_id}/get",
            "parameters": {"shelf_id": "$response.body#/shelf_id"},
        }
    }


def test_a_body_that_is_not_utf8_is_a_documented_400_problem():
    http = _shelf_api(Shelf([]))
    answer = http.post(
        "/v1/shelves/A-03/labels", content=b"\xff", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    spec = http.get("/openapi.json").json()
    label = spec["paths"]["/v1/shelves/{shelf_id}/labels"]["post"]["responses"]
    assert "application/problem+json" in label["400"]["content"]
    assert "400" not in spec["paths"]["/v1/shelves/{shelf_id}"]["get"]["responses"]


def test_a_link_takes_a_parameter_from_a_field_of_another_name():
    answer = links(200, "GET /v1/dlq/{message_id}", at="/data/0", message_id="/data/0/id")
    [(name, link)] = answer[200]["links"].items()
    assert name == "get_dlq_message_id"
    assert link["parameters"] == {"message_id": "$response.body#/data/0/id"}


def test_a_body_over_the_limit_is_a_413_before_anything_reads_it_declared_or_chunked():
    shelf = Shelf([])
    app = api_factory(service="t", title="T", routers=[_labels(shelf)], provides=[shelf])({})
    app.add_middleware(BodyLimitMiddleware, max_bytes=1000, prefix="/v1/shelves/")
    http = TestClient(app)
    big = b'{"text": "' + b"x" * 2000 + b'"}'

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for start in range(0, len(big), 100):
            yield big[start : start + 100]

    declared = http.post("/v1/shelves/A-03/labels", content=big)
    chunked = http.post(
        "/v1/shelves/A-03/labels", content=chunks(), headers={"content-type": "application/json"}
    )
    small = http.post("/v1/shelves/A-03/labels", json={"text": "fragile"})

    for answer in (declared, chunked):
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "at most 1000 bytes" in answer.json()["detail"]
    assert small.status_code == 201
    assert shelf.items == ["fragile"]


def _labels(shelf: Shelf) -> APIRouter:
    router = APIRouter(prefix="/shelves")

    @router.post("/{shelf_id}/labels", status_code=201)
    def label(shelf_id: str, body: Label, on: Shelf = provide(Shelf)) -> dict[str, str]:
        on.items.append(body.text)
        return {"shelf_id": shelf_id}

    return router
