"""What the queue, returns and channel pages share: reads that may fail without breaking the
page, actions that come back with a note or the API's problem, and paging by offset."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from services.console.pages.deps import back
from services.console.upstream import Caller, UpstreamProblem

PAGE_SIZE = 50
PROBLEM_CHARS = 600  # a problem travels in the redirect's URL: a long one is cut there
SHOWN_WAIT_SECONDS = 3.0  # the services' lists follow their commands well within this
MAX_OFFSET = 100_000  # deeper than anyone pages by hand; the APIs refuse far beyond it
CHANNEL_ID = re.compile(r"^[a-z0-9_-]{1,64}$")  # as the gateway names channels
SERVICES = (
    "channel_gateway",
    "order_service",
    "inventory_service",
    "fulfillment_service",
    "returns_service",
)


@dataclass(frozen=True)
class Tally:
    """How many rows a list holds, or why nobody could say."""

    count: int | None
    capped: bool = False
    why: str | None = None  # the service's words when the count is unknown

    @property
    def known(self) -> bool:
        """True when the service answered."""
        return self.count is not None


async def tally(api: Caller, service: str, path: str, **params: Any) -> Tally:
    """The `count` of a list (one row asked for); unknown when the service is down or refuses."""
    try:
        page = await api.get(service, path, limit=1, **params)
    except UpstreamProblem as problem:
        return Tally(None, why=problem.detail)
    return Tally(int(page["count"]), bool(page.get("count_capped")))


async def read_or_problem(api: Caller, service: str, path: str, **params: Any) -> Any:
    """A list page, or an empty one carrying the problem to show in its place."""
    try:
        return await api.get(service, path, **params)
    except UpstreamProblem as problem:
        return {"data": [], "count": 0, "problem": f"{problem.title}: {problem.detail}"}


async def or_none(api: Caller, service: str, path: str, **params: Any) -> Any:
    """A read that may find nothing (404) or be refused to this role: None then."""
    try:
        return await api.get(service, path, **params)
    except UpstreamProblem:
        return None


@dataclass(frozen=True)
class Shown:
    """A read that shows what an action did once the service's read model caught up."""

    service: str
    path: str
    done: Callable[[Any], bool]


async def until_shown(api: Caller, shown: Shown) -> None:
    """Wait a moment until the read shows the action, so the page gone back to shows it too
    (it shows up there by itself later if the service is slower than that)."""
    deadline = asyncio.get_running_loop().time() + SHOWN_WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        found = await or_none(api, shown.service, shown.path)
        if found is not None and shown.done(found):
            return
        await asyncio.sleep(0.05)


async def act(
    api: Caller,
    service: str,
    path: str,
    body: Any,
    *,
    back_to: str,
    done: str,
    headers: dict[str, str] | None = None,
    shown: Shown | None = None,
) -> Response:
    """A POST; back to the page with a note (once `shown` shows it), or with the problem."""
    try:
        await api.post(service, path, body, headers=headers or {})
    except UpstreamProblem as problem:
        return back(back_to, problem=f"{problem.title}: {problem.detail}"[:PROBLEM_CHARS])
    if shown is not None:
        await until_shown(api, shown)
    return back(back_to, note=done)


def offset_of(request: Request) -> int:
    """The page's `offset` query parameter; 0 for a missing or bad one."""
    given = request.query_params.get("offset", "")
    return min(int(given), MAX_OFFSET) if given.isdigit() else 0


def next_offset(page: dict[str, Any], offset: int, limit: int = PAGE_SIZE) -> int | None:
    """The offset of the page after this one, None on the last page."""
    following = offset + limit
    return following if following < int(page.get("count", 0)) else None


def local(path: str, fallback: str) -> str:
    """Only a path of this console to go back to: a form never sends the browser elsewhere."""
    # "//host" and "/\\host" are other sites to a browser.
    safe = path.startswith("/") and not path.startswith(("//", "/\\")) and path.isprintable()
    return path if safe else fallback


def channel_id(given: str) -> str:
    """A channel id as the gateway spells them; anything else is a page that does not exist."""
    if not CHANNEL_ID.fullmatch(given):
        raise UpstreamProblem(404, "Channel not found", f"no channel {given!r}")
    return given
