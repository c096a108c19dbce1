"""FastAPI app factory: health, metrics, request ids and RFC 9457 problem+json errors."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Annotated, Any, Generic, Protocol, Self, TypeVar, runtime_checkable
from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.runtime.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.runtime.tracing import traced

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
NUL = "\x00"
ALLOWABLE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
REQUEST_ID = "X-Request-ID"
_PATH_PARAM = re.compile(r"{(\w+)}")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
MAX_OFFSET = 1_000_000  # deeper pages are searched, not scrolled; keeps OFFSET a small bigint
ReadinessCheck = Callable[[], Awaitable[bool]]
T = TypeVar("T")
log = structlog.get_logger()


# -- the API kit every router uses ------------------------------------------------------


def component(request: Request, kind: type[T]) -> T:
    """The process's component of this type (given to api_factory), found by type."""
    components: dict[type, object] = request.app.state.components
    found = components.get(kind)
    if found is None:
        found = next((c for c in components.values() if isinstance(c, kind)), None)
    if not isinstance(found, kind):
        raise LookupError(f"no {kind.__name__} was given to this API")
    return found


def provide(kind: type[T]) -> Any:
    """A dependency on the process's component of this type (given to api_factory).

    `Annotated[Orders, provide(Orders)]` types the endpoint's parameter and looks the
    component up by type, so a router never reaches into `app.state` by name.
    """

    # async: FastAPI runs a plain-function dependency in its thread pool, a hop that cost
    # ~250 µs of CPU per request; a dict lookup needs no thread.
    async def dependency(request: Request) -> T:
        return component(request, kind)

    dependency.__name__ = f"provide_{kind.__name__}"
    return Depends(dependency)


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retrying with the same key records the command once.",
    ),
]


def _rfc3339(value: object) -> object:
    """Only an RFC 3339 time with its offset: pydantic alone would read "0.5" as 1970."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 time with an offset, such as 2026-01-31T12:00:00Z")
    return value


TimeQuery = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
"""A time in a query: RFC 3339 with its offset, nothing pydantic would guess at."""


@dataclass(frozen=True)
class PageQuery:
    """Which page of a list was asked for: bounded, so no value can reach the database raw."""

    limit: int
    offset: int


def page_query(default: int = 50, maximum: int = 500) -> Any:
    """A dependency reading `limit` (1..maximum) and `offset` (0..MAX_OFFSET) from the query."""

    # Query() as defaults, not in Annotated: with postponed annotations FastAPI would resolve
    # the annotation strings in this module's globals, where `maximum` does not exist.
    def read(
        limit: int = Query(default, ge=1, le=maximum),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
    ) -> PageQuery:
        return PageQuery(limit=limit, offset=offset)

    return Depends(read)


class Page(BaseModel, Generic[T]):
    """A page of a list: its rows, how many match in all, and which page this is."""

    data: list[T]
    count: int
    limit: int
    offset: int

    @classmethod
    def of(cls, data: list[T], count: int, query: PageQuery) -> Self:
        """The page answering `query`."""
        return cls(data=data, count=count, limit=query.limit, offset=query.offset)


Responses = dict[int | str, dict[str, Any]]


def problems(*statuses: int) -> Responses:
    """Error answers a route documents beyond the kit's own (404 behind an id, 422 always).

    The kit shows each as a problem document: `responses=problems(409)`.
    """
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}


def links(status: int, *operations: str, at: str = "", **fields: str) -> Responses:
    """OpenAPI links from the `status` answer to operations such as "GET /v1/orders/{order_id}".

    Each path parameter is taken from the body's field of that name, under `at` (a JSON
    pointer such as "/data/0" for the first row of a page), or from the pointer `fields`
    names for it (`message_id="/data/0/id"`): clients and Schemathesis follow them from a
    create or a list to the operations behind its ids.
    """
    return {status: {"links": dict(_link(operation, at, fields) for operation in operations)}}


def _link(operation: str, at: str, fields: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The name and OpenAPI Link object of one "METHOD /path" operation."""
    method, path = operation.split(" ", 1)
    segments = [part.strip("{}") for part in path.split("/") if part and part != "v1"]
    pointer = path.replace("~", "~0").replace("/", "~1")
    parameters = {
        name: f"$response.body#{fields.get(name, f'{at}/{name}')}"
        for name in _PATH_PARAM.findall(path)
    }
    link = {"operationRef": f"#/paths/{pointer}/{method.lower()}", "parameters": parameters}
    return "_".join([method.lower(), *segments]), link


class ProblemError(BaseModel):
    """One thing wrong with a request: where, what, and its kind."""

    loc: list[str | int]
    msg: str
    type: str


class ProblemDocument(BaseModel):
    """An RFC 9457 problem document, the body of every error answer; domain errors add fields."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemError] | None = None


class Problem(Exception):
    """An error to answer with a problem+json body."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


def problem_response(
    status: int, title: str, detail: str, request: Request, **extra: Any
) -> JSONResponse:
    """An RFC 9457 problem document."""
    body = {
        "type": f"https://oms.example/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": str(request.url.path),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def create_api(
    *,
    service: str,
    title: str,
    routers: Sequence[APIRouter],
    readiness: Mapping[str, ReadinessCheck],
    error_statuses: Mapping[Any, tuple[int, str]] | None = None,
    guard: Any = None,
) -> FastAPI:
    """Build a service's API with the endpoints and conventions every OMS service shares.

    `guard` (a dependency) runs before every /v1 endpoint: access control.
    """
    api = ServiceAPI(title=title, version="1.0.0", description=f"OMS {service} API")
    dependencies = [] if guard is None else [guard]
    for router in routers:
        api.include_router(router, prefix="/v1", dependencies=dependencies)
    _add_health(api, readiness)
    api.add_middleware(NulBytesMiddleware)
    api.add_middleware(BodyLimitMiddleware)  # outside NulBytesMiddleware: before it reads
    _add_request_ids(api)
    _add_problem_handlers(api, dict(error_statuses or {}))
    return api


class ServiceAPI(FastAPI):
    """A FastAPI app whose OpenAPI document shows every error answer as a problem document."""

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document, built once."""
        if self.openapi_schema is None:
            self.openapi_schema = _document_problems(super().openapi())
        return self.openapi_schema


# What FastAPI documents for a 422 on its own: its validation error, which we never answer.
_FASTAPI_422 = {
    "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
}


def _document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation documents 422 (any input may be bad, a NUL anywhere), behind an id 404,
    with a body 400, behind the access check 401 and 403; every error answer without content of
    its own is a problem document."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("422", {"description": HTTPStatus(422).phrase})
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                responses.setdefault("404", {"description": HTTPStatus(404).phrase})
            if "requestBody" in operation:  # FastAPI answers 400 to a body it cannot decode
                responses.setdefault("400", {"description": HTTPStatus(400).phrase})
            if operation.get("security"):  # behind the access check: no token, the wrong role
                responses.setdefault("401", {"description": HTTPStatus(401).phrase})
                responses.setdefault("403", {"description": HTTPStatus(403).phrase})
            for status, response in responses.items():
                if status[0] in "45" and response.get("content", _FASTAPI_422) == _FASTAPI_422:
                    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"/{unused}" not in json.dumps(document.get("paths", {})):
            schemas.pop(unused, None)
    return document


@dataclass(frozen=True)
class Ops:
    """Endpoints the runtime adds to every service's API (e.g. the dead-letter office)."""

    routers: Sequence[APIRouter] = ()
    error_statuses: Mapping[Any, tuple[int, str]] = field(default_factory=dict)
    provides: Sequence[object] = ()
    guard: Any = None  # a dependency every /v1 endpoint runs first (access control)


class ApiBuilder(Protocol):
    """Builds a service's API from its readiness checks, with the runtime's ops endpoints."""

    def __call__(self, readiness: Mapping[str, ReadinessCheck], /, ops: Ops = ...) -> FastAPI:
        """The API."""
        ...


def api_factory(
    *,
    service: str,
    title: str,
    routers: Sequence[APIRouter],
    error_statuses: Mapping[Any, tuple[int, str]] | None = None,
    provides: Sequence[object] = (),
) -> ApiBuilder:
    """A builder of the service's API, given its readiness checks and the runtime's `Ops`.

    `provides` are the components endpoints depend on through `provide(Type)`.
    """

    def build(readiness: Mapping[str, ReadinessCheck], /, ops: Ops = Ops()) -> FastAPI:
        http = create_api(
            service=service,
            title=title,
            routers=[*routers, *ops.routers],
            readiness=readiness,
            error_statuses={**(error_statuses or {}), **ops.error_statuses},
            guard=ops.guard,
        )
        components = [*provides, *ops.provides]
        http.state.components = {type(each): each for each in components}
        return http

    return build


def _add_health(api: FastAPI, readiness: Mapping[str, ReadinessCheck]) -> None:
    @api.get("/livez", tags=["health"])
    async def livez() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @api.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        """The database and the broker answer."""
        checks = {name: await _safe(check) for name, check in readiness.items()}
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    @api.get("/metrics", tags=["health"], include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _safe(check: ReadinessCheck) -> bool:
    try:
        return await check()
    except Exception:
        return False


def _add_request_ids(api: FastAPI) -> None:
    api.add_middleware(RequestIdMiddleware)


class RequestIdMiddleware:
    """Takes or makes X-Request-ID, traces the request with it, returns it, counts the request.

    Plain ASGI rather than BaseHTTPMiddleware: the intake path is hot, and this costs a
    fraction of a wrapped call_next.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _header(scope, b"x-request-id") or str(uuid.uuid4())
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        # The request id becomes the correlation id of every event this request causes.
        with traced(rid, rid):
            await self.app(scope, receive, send_with_id)
        route = getattr(scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(scope["method"], route, status).inc()
        HTTP_LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


# What a request body may weigh unless a service says less for some paths: well above any JSON
# or CSV a client sends, and kept from being read into memory whole (NulBytesMiddleware reads).
MAX_REQUEST_BYTES = 16 * 1024 * 1024


class BodyLimitMiddleware:
    """Answers 413 problem+json to a request under `prefix` whose body is over `max_bytes`,
    before anything parses a form or a file out of it: at once when its Content-Length says so
    (the server holds a body to the length it declared); a chunked body, which declares none,
    is read here up to the limit, and refused on the first byte past it."""

    def __init__(self, app: Any, max_bytes: int = MAX_REQUEST_BYTES, prefix: str = "/") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        messages: list[dict[str, Any]] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> dict[str, Any]:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        detail = f"a request body here may be at most {self.max_bytes} bytes"
        answer = problem_response(413, "Request too large", detail, Request(scope))
        await answer(scope, receive, send)


class NulBytesMiddleware:
    """Answers 422 to a request with a NUL character in its path, query or body (a multipart
    body, which carries files, excepted).

    PostgreSQL stores no NUL in text or jsonb: one that got past the edge was a 500, or an
    event recorded that no read model could store. Checked once here, for every endpoint.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loc = _nul_in_url(scope)
        # Files (a payment slip: JPEG, PNG and PDF are full of NUL bytes) are bytes, never text:
        # an endpoint taking a multipart upload stores its file as bytea and checks its text.
        content_type = _header(scope, b"content-type") or ""
        if loc is None and not content_type.lower().startswith("multipart/form-data"):
            body, receive = await _read_body(receive)
            loc = _nul_in_body(body)
        if loc is None:
            await self.app(scope, receive, send)
            return
        where = ".".join(map(str, loc))
        error = {"loc": loc, "msg": "NUL characters are not accepted", "type": "nul_character"}
        detail = f"{where}: NUL characters are not accepted"
        answer = problem_response(422, "Invalid request", detail, Request(scope), errors=[error])
        await answer(scope, receive, send)


def _nul_in_url(scope: dict[str, Any]) -> list[str | int] | None:
    """Where in the path or query a NUL is, if anywhere."""
    if NUL in scope["path"]:
        return ["path"]
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return ["query", name.replace(NUL, "\\u0000")]
    return ["query"]


def _nul_in_body(body: bytes) -> list[str | int] | None:
    """Where in the body a NUL is, if anywhere: raw, or escaped in a JSON string."""
    if b"\x00" in body:
        return ["body"]
    if b"\\u0000" not in body:
        return None
    # The escape may be a literal backslash before "u0000": only the parsed JSON can tell.
    try:
        return _nul_at(json.loads(body), ["body"])
    except ValueError:
        return None  # not JSON: the endpoint answers for that


def _nul_at(value: Any, loc: list[str | int]) -> list[str | int] | None:
    """The location of the first key or string in parsed JSON that holds a NUL."""
    if isinstance(value, str):
        return loc if NUL in value else None
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, item in items:
        if isinstance(key, str) and NUL in key:
            return [*loc, key.replace(NUL, "\\u0000")]
        found = _nul_at(item, [*loc, key])
        if found is not None:
            return found
    return None


async def _read_body(receive: Any) -> tuple[bytes, Any]:
    """The whole request body, and a receive that hands it on to the app as if unread."""
    messages: list[dict[str, Any]] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")

    async def replay() -> dict[str, Any]:
        return messages.pop(0) if messages else await receive()

    return body, replay


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _add_problem_handlers(
    api: FastAPI, error_statuses: dict[type[Exception], tuple[int, str]]
) -> None:
    @api.exception_handler(Problem)
    async def on_problem(request: Request, error: Problem) -> JSONResponse:
        answer = problem_response(error.status, error.title, error.detail, request, **error.extra)
        answer.headers.update(error.headers)
        return answer

    @api.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in error.errors()
        ]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return problem_response(422, "Invalid request", detail, request, errors=errors)

    @api.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        answer = problem_response(error.status_code, "HTTP error", str(error.detail), request)
        answer.headers.update(error.headers or {})
        if error.status_code == 405:
            # Starlette names only the methods of the first route on the path.
            answer.headers["Allow"] = ", ".join(_methods_on_path(request))
        return answer

    for error_class, (status, title) in error_statuses.items():
        api.add_exception_handler(error_class, _domain_handler(status, title))


def _methods_on_path(request: Request) -> list[str]:
    """Every method some route of the app takes on the request's path."""
    routes = request.app.router.routes
    return [
        method
        for method in ALLOWABLE_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


@runtime_checkable
class ProblemDetails(Protocol):
    """A domain error that names extra problem fields (e.g. the SKU and the units it allows)."""

    def details(self) -> Mapping[str, object]:
        """The extra fields of the problem document."""
        ...


def _domain_handler(status: int, title: str) -> Callable[[Request, Exception], Awaitable[Any]]:
    async def handle(request: Request, error: Exception) -> JSONResponse:
        extra = dict(error.details()) if isinstance(error, ProblemDetails) else {}
        return problem_response(status, title, str(error), request, **extra)

    return handle
