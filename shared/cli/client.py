"""A small HTTP client of the OMS APIs, used by `oms demo`, `oms bench` and `oms dlq`."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from shared.runtime.access import new_token, parse_token

DEFAULT_URLS = {
    "channel_gateway": "http://127.0.0.1:8000",
    "order_service": "http://127.0.0.1:8001",
    "inventory_service": "http://127.0.0.1:8002",
    "fulfillment_service": "http://127.0.0.1:8003",
    "returns_service": "http://127.0.0.1:8004",
}


TOKEN_ENV = "OMS_TOKEN"
ADMIN_TOKEN_FILE = "admin-token"  # in `oms up`'s var directory
DEFAULT_VAR_DIR = Path("var")


def write_private_file(path: Path, text: str) -> None:
    """A new file readable by its owner only from its first byte (never one that exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


def read_or_make_token(path: Path) -> str:
    """The token kept in `path`, made (owner-only) when there is none yet."""
    if path.exists():
        token = path.read_text().strip()
        if parse_token(token) is None:
            raise ValueError(f"{path} holds no OMS access token; delete it to make a new one")
        return token
    token = new_token().token
    write_private_file(path, token + "\n")
    return token


def read_or_make_key(path: Path) -> str:
    """The Fernet key kept in `path`, made (owner-only) when there is none yet."""
    if not path.exists():
        write_private_file(path, Fernet.generate_key().decode() + "\n")
    return path.read_text().strip()


def cli_token(var_dir: Path = DEFAULT_VAR_DIR) -> str | None:
    """The token CLI calls carry: $OMS_TOKEN, else the admin token of a local `oms up`."""
    token = os.environ.get(TOKEN_ENV)
    if token:
        return token.strip()
    path = var_dir / ADMIN_TOKEN_FILE
    return path.read_text().strip() if path.exists() else None


@functools.cache
def session_token() -> str:
    """One admin token for the services this CLI process starts itself (made on first use)."""
    return new_token().token


def auth_headers(token: str | None) -> dict[str, str]:
    """The Authorization header of a bearer token (none without one)."""
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def urls_from_base(base_port: int, host: str = "127.0.0.1") -> dict[str, str]:
    """Service URLs when the gateway listens on base_port and the others follow."""
    return {name: f"http://{host}:{base_port + i}" for i, name in enumerate(DEFAULT_URLS)}


class OmsClient:
    """Calls the services' /v1 APIs; raises httpx.HTTPStatusError on a 4xx/5xx."""

    def __init__(
        self, urls: dict[str, str], timeout: float = 30.0, token: str | None = None
    ) -> None:
        self.urls = urls
        self.http = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(max_connections=64),
            headers=auth_headers(token if token is not None else cli_token()),
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def _call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self.urls[service]}/v1{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    async def create_location(self, location: dict[str, Any]) -> Any:
        """Register a stock location."""
        return await self._call("inventory_service", "POST", "/locations", json=location)

    async def receive_stock(self, location_id: str, sku: str, quantity: int, key: str) -> Any:
        """Book a receipt; the idempotency key makes a retry harmless."""
        body = {"location_id": location_id, "sku": sku, "quantity": quantity}
        return await self._call(
            "inventory_service",
            "POST",
            "/stock/receipts",
            json=body,
            headers={"Idempotency-Key": key},
        )

    async def stock(self, sku: str) -> Any:
        """Stock of a SKU per location and in total."""
        return await self._call("inventory_service", "GET", f"/stock/{sku}")

    async def place_order(self, order: dict[str, Any]) -> Any:
        """Hand a canonical order to the gateway."""
        return await self._call("channel_gateway", "POST", "/orders", json=order)

    async def order(self, order_id: str) -> Any:
        """One order with its timeline."""
        return await self._call("order_service", "GET", f"/orders/{order_id}")

    async def orders(self, **params: Any) -> Any:
        """A page of orders."""
        return await self._call("order_service", "GET", "/orders", params=params)

    async def shipments(self, **params: Any) -> Any:
        """A page of shipments."""
        return await self._call("fulfillment_service", "GET", "/shipments", params=params)

    async def ship(self, shipment_id: str, carrier: str, tracking_number: str) -> Any:
        """Mark a shipment as gone with its carrier and tracking number."""
        body = {"carrier": carrier, "tracking_number": tracking_number}
        return await self._call(
            "fulfillment_service", "POST", f"/shipments/{shipment_id}/ship", json=body
        )

    async def request_return(self, order_id: str, lines: list[dict[str, Any]]) -> Any:
        """Open an RMA."""
        body = {"order_id": order_id, "lines": lines}
        return await self._call("returns_service", "POST", "/returns", json=body)

    async def receive_return(self, return_id: str, lines: list[dict[str, Any]]) -> Any:
        """Book returned units as received."""
        return await self._call(
            "returns_service", "POST", f"/returns/{return_id}/receive", json={"lines": lines}
        )

    async def parked(self, service: str, **params: Any) -> Any:
        """A page of a service's parked (dead-lettered) messages."""
        return await self._call(service, "GET", "/dlq", params=params)

    async def parked_message(self, service: str, message_id: int) -> Any:
        """One parked message with its headers and payload."""
        return await self._call(service, "GET", f"/dlq/{message_id}")

    async def replay(self, service: str, message_id: int, by: str) -> Any:
        """Apply a parked message with the service's current handlers, exactly once."""
        return await self._call(service, "POST", f"/dlq/{message_id}/replay", json={"by": by})

    async def discard(self, service: str, message_id: int, by: str, reason: str) -> Any:
        """Record that a parked message will not be applied, by whom and why."""
        body = {"by": by, "reason": reason}
        return await self._call(service, "POST", f"/dlq/{message_id}/discard", json=body)
