"""Ids, value objects and errors shared by the inventory aggregates.

Value objects are TypedDicts: plain dicts at run time, so stored events keep their JSON and
the reservation path pays nothing for the types.
"""

from __future__ import annotations

from typing import Required, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

LOCATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/locations")
STOCK_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/stock")
RESERVATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/reservations")
MOVEMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/stock-movements")
DISCREPANCY_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/stock-discrepancies")


class Line(TypedDict):
    """Units of one SKU: what an order asks for, or what a shipment took."""

    sku: str
    quantity: int


class Allocation(TypedDict):
    """Units of one SKU at one location: held for an order, given back, or restocked."""

    sku: str
    location_id: str
    quantity: int


class Shortage(TypedDict):
    """A SKU an order could not get in full: units requested and units available."""

    sku: str
    requested: int
    available: int


class PostalAddress(TypedDict):
    """A location's postal address: what labels print as ship-from."""

    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str


class PickedLine(TypedDict):
    """What a picker found of one SKU: units expected and picked, and the bin if named."""

    sku: str
    bin: str | None
    expected: int
    picked: int


class ReturnedLine(TypedDict):
    """Units that came back to a location; condition is "sellable" or "damaged"."""

    sku: str
    quantity: int
    condition: str
    location_id: str


class Level(TypedDict):
    """A SKU's units at one location: on hand, promised to orders, reported missing."""

    on_hand: int
    reserved: int
    missing: int


class Movement(TypedDict, total=False):
    """What a receipt (quantity) or an adjustment (quantity_delta) did, by its id."""

    location_id: Required[str]
    quantity: int
    quantity_delta: int


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


class QuarantineError(InventoryError):
    """More units to quarantine than are free, or to release than are quarantined."""


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
