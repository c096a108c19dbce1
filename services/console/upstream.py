"""The five APIs as the console calls them: with the signed-in user's token, nothing else.

An answer of 4xx becomes UpstreamProblem carrying the service's own words (its problem+json), so
a page can show why an action was refused; a service that does not answer is one too (502).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class UpstreamProblem(Exception):
    """A service refused or did not answer: its status, title and detail."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail


@dataclass
class Upstream:
    """One process's connection pool to the five APIs, called as one user at a time."""

    urls: dict[str, str]
    http: httpx.AsyncClient

    def as_user(self, token: str) -> Caller:
        """Calls carrying this user's bearer token."""
        return Caller(self, {"Authorization": f"Bearer {token}"})

    def anonymous(self) -> Caller:
        """Calls without a token (signing in)."""
        return Caller(self, {})


@dataclass(frozen=True)
class Caller:
    """The APIs, called with one user's token."""

    upstream: Upstream
    headers: dict[str, str]

    async def request(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call; a 4xx or 5xx answer raises UpstreamProblem with the service's words."""
        url = f"{self.upstream.urls[service]}/v1{path}"
        headers = self.headers | kwargs.pop("headers", {})  # the token, and e.g. Idempotency-Key
        try:
            answer = await self.upstream.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise UpstreamProblem(502, f"{service} did not answer", str(error)) from None
        if answer.status_code >= 400:
            raise _problem(service, answer)
        return answer

    async def get(self, service: str, path: str, **params: Any) -> Any:
        """The JSON of a GET (parameters that are None are left out)."""
        given = {k: v for k, v in params.items() if v not in (None, "")}
        return (await self.request(service, "GET", path, params=given)).json()

    async def post(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """The JSON of a POST with a JSON body."""
        answer = await self.request(service, "POST", path, json=body, **kwargs)
        return answer.json() if answer.content else None

    async def put(self, service: str, path: str, body: Any) -> Any:
        """The JSON of a PUT with a JSON body."""
        return (await self.request(service, "PUT", path, json=body)).json()

    async def count(self, service: str, path: str, **params: Any) -> int:
        """How many rows a list would show (one row asked for)."""
        return int((await self.get(service, path, limit=1, **params))["count"])

    async def document(self, service: str, path: str) -> httpx.Response:
        """A document (PDF, ZPL) as the service answered it."""
        return await self.request(service, "GET", path)


def _problem(service: str, answer: httpx.Response) -> UpstreamProblem:
    try:
        body = answer.json()
        return UpstreamProblem(answer.status_code, str(body["title"]), str(body["detail"]))
    except (ValueError, KeyError, TypeError):
        return UpstreamProblem(answer.status_code, f"{service} answered", answer.text[:300])
