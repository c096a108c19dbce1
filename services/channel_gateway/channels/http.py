"""HTTP to channel APIs: what a delivery job carries, and which failures are worth a retry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx


class ChannelCallError(Exception):
    """A call to a channel failed."""


class TransientChannelError(ChannelCallError):
    """Down, slow, overloaded or rate-limited: try again later."""


class PermanentChannelError(ChannelCallError):
    """The channel refused the request: retrying the same request will not help."""


@dataclass(frozen=True)
class Job:
    """One delivery to perform: the news, the order as the gateway knows it, and its channel."""

    delivery_id: UUID
    action: str
    external_id: str
    # The delivery's news and order snapshot, read by each channel as its API needs them.
    details: Mapping[str, Any]
    order: Mapping[str, Any] = field(default_factory=dict)

    @property
    def refs(self) -> dict[str, Any]:
        """The channel's own ids for the order and its lines."""
        return dict(self.order.get("refs") or {})

    def line_ref(self, sku: str) -> dict[str, Any]:
        """The channel's ids of the order line of one of our SKUs."""
        for line in self.refs.get("lines") or []:
            if line.get("sku") == sku:
                return dict(line)
        return {}

    def tracking_numbers(self) -> list[str]:
        """Every tracking number of a shipment: one per package, else the shipment's."""
        packages = self.details.get("packages") or []
        numbers = [p["tracking_number"] for p in packages if p.get("tracking_number")]
        return numbers or [self.details["tracking_number"]]


async def call(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request; 5xx, 429 and network trouble are transient, other 4xx permanent."""
    response = await answered(http, method, url, **kwargs)
    if response.status_code >= 400:
        raise PermanentChannelError(
            f"{method} {url}: HTTP {response.status_code} {response.text[:300]}"
        )
    return response


async def answered(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request whose 4xx answer the caller reads (5xx, 429, network trouble: transient)."""
    try:
        response = await http.request(method, url, **kwargs)
    except (httpx.TransportError, httpx.TimeoutException) as error:
        raise TransientChannelError(f"{method} {url}: {type(error).__name__}: {error}") from None
    if response.status_code >= 500 or response.status_code in (408, 425, 429):
        raise TransientChannelError(f"{method} {url}: HTTP {response.status_code}")
    return response


def json_of(response: httpx.Response) -> Any:
    """The JSON body; a channel answering garbage is treated as a passing fault."""
    try:
        return response.json()
    except ValueError:
        raise TransientChannelError(
            f"{response.request.method} {response.request.url}: body is not JSON"
        ) from None
