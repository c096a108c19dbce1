"""Inventory domain: locations, stock per SKU per location, reservations per order, routing.

stdlib + eventsourcing.domain only; split into modules by aggregate, imported from here.
"""

from services.inventory_service.domain.base import (
    IdempotencyKeyReusedError,
    InsufficientStockError,
    InventoryError,
    LocationConflictError,
    LocationNotFoundError,
    StockNotFoundError,
    location_id_for,
    movement_id_for,
    reservation_id_for,
    stock_id_for,
)
from services.inventory_service.domain.location import (
    Location,
    merge_lines,
    rank_locations,
    route,
)
from services.inventory_service.domain.reservation import (
    BACKORDERED,
    CANCELLED,
    CONSUMED,
    PARTIALLY_CONSUMED,
    RELEASED,
    REQUESTED,
    RESERVED,
    Reservation,
)
from services.inventory_service.domain.stock import Stock

__all__ = [
    "BACKORDERED",
    "CANCELLED",
    "CONSUMED",
    "PARTIALLY_CONSUMED",
    "RELEASED",
    "REQUESTED",
    "RESERVED",
    "IdempotencyKeyReusedError",
    "InsufficientStockError",
    "InventoryError",
    "Location",
    "LocationConflictError",
    "LocationNotFoundError",
    "Reservation",
    "Stock",
    "StockNotFoundError",
    "location_id_for",
    "merge_lines",
    "movement_id_for",
    "rank_locations",
    "reservation_id_for",
    "route",
    "stock_id_for",
]
