"""Ids and errors shared by the inventory aggregates."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

LOCATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/locations")
STOCK_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/stock")
RESERVATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/reservations")
MOVEMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/stock-movements")
DISCREPANCY_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/stock-discrepancies")


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


class InvalidBinError(InventoryError):
    """A bin code is not aisle-bay-level (e.g. A-03-2)."""


class DiscrepancyNotFoundError(InventoryError):
    """No stock discrepancy has this id."""


class DiscrepancyClosedError(InventoryError):
    """The discrepancy was already resolved the other way (confirmed versus rejected)."""


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


def discrepancy_id_for(pick_list_id: UUID, shipment_id: UUID, sku: str) -> UUID:
    """The id of the discrepancy a short-picked SKU proposes (a redelivery finds it again)."""
    return uuid5(DISCREPANCY_NAMESPACE, f"{pick_list_id}:{shipment_id}:{sku}")
