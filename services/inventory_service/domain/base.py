"""Ids and errors shared by the inventory aggregates."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

LOCATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/locations")
STOCK_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/stock")
RESERVATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/reservations")
MOVEMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/stock-movements")


class InventoryError(Exception):
    """Base of inventory domain errors."""


class LocationNotFoundError(InventoryError):
    """No location has this id."""


class LocationConflictError(InventoryError):
    """A location with this id exists with different data."""


class StockNotFoundError(InventoryError):
    """This SKU has never been seen."""


class InsufficientStockError(InventoryError):
    """The change would take on hand below zero or below what is reserved."""


class IdempotencyKeyReusedError(InventoryError):
    """An Idempotency-Key was used before for a different request."""


def location_id_for(location_id: str) -> UUID:
    """The aggregate id of a location, derived from its own id."""
    return uuid5(LOCATION_NAMESPACE, location_id)


def stock_id_for(sku: str) -> UUID:
    """The aggregate id of a SKU's stock."""
    return uuid5(STOCK_NAMESPACE, sku)


def reservation_id_for(order_id: UUID) -> UUID:
    """The aggregate id of an order's reservation."""
    return uuid5(RESERVATION_NAMESPACE, str(order_id))


def movement_id_for(kind: str, idempotency_key: str) -> str:
    """A receipt or adjustment id derived from the client's Idempotency-Key (retries collapse)."""
    return str(uuid5(MOVEMENT_NAMESPACE, f"{kind}:{idempotency_key}"))
