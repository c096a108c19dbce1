"""Inventory domain: locations, stock per SKU per location, bins, reservations, discrepancies.

stdlib + eventsourcing.domain only; split into modules by aggregate, imported from here.
"""

from services.inventory_service.domain.base import (
    DiscrepancyClosedError,
    DiscrepancyNotFoundError,
    IdempotencyKeyReusedError,
    InsufficientStockError,
    InvalidBinError,
    InventoryError,
    LocationConflictError,
    LocationNotFoundError,
    StockNotFoundError,
    discrepancy_id_for,
    location_id_for,
    movement_id_for,
    reservation_id_for,
    stock_id_for,
)
from services.inventory_service.domain.bins import (
    in_pick_path_order,
    normalize_bin,
    pick_path_key,
)
from services.inventory_service.domain.discrepancy import (
    CONFIRMED_REASON,
    DISCREPANCY_STATUSES,
    PROPOSED,
    REJECTED_REASON,
    Discrepancy,
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
    "CONFIRMED_REASON",
    "CONSUMED",
    "DISCREPANCY_STATUSES",
    "PARTIALLY_CONSUMED",
    "PROPOSED",
    "REJECTED_REASON",
    "RELEASED",
    "REQUESTED",
    "RESERVED",
    "Discrepancy",
    "DiscrepancyClosedError",
    "DiscrepancyNotFoundError",
    "IdempotencyKeyReusedError",
    "InsufficientStockError",
    "InvalidBinError",
    "InventoryError",
    "Location",
    "LocationConflictError",
    "LocationNotFoundError",
    "Reservation",
    "Stock",
    "StockNotFoundError",
    "discrepancy_id_for",
    "in_pick_path_order",
    "location_id_for",
    "merge_lines",
    "movement_id_for",
    "normalize_bin",
    "pick_path_key",
    "rank_locations",
    "reservation_id_for",
    "route",
    "stock_id_for",
]
