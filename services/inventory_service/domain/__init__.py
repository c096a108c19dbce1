"""Inventory domain: locations, stock per SKU per location, bins, reservations, discrepancies.

stdlib + eventsourcing.domain only; split into modules by aggregate, imported from here.
"""

from services.inventory_service.domain.atp import (
    ANY_CHANNEL,
    NO_RULE,
    ChannelLevel,
    ChannelRule,
    ChannelRules,
    channel_atp,
    channel_level,
    channel_levels,
    location_atp,
    open_atp,
)
from services.inventory_service.domain.base import (
    Allocation,
    DiscrepancyClosedError,
    DiscrepancyNotFoundError,
    IdempotencyKeyReusedError,
    InsufficientStockError,
    InvalidBinError,
    InventoryError,
    Level,
    Line,
    LocationConflictError,
    LocationNotFoundError,
    Movement,
    PickedLine,
    QuarantineError,
    ReturnedLine,
    Shortage,
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
    REJECTED_REASON,
    Discrepancy,
    DiscrepancyStatus,
)
from services.inventory_service.domain.levels import LevelEvent
from services.inventory_service.domain.location import (
    Location,
    merge_lines,
    rank_locations,
    route,
)
from services.inventory_service.domain.reservation import Reservation, ReservationStatus
from services.inventory_service.domain.stock import Stock

AGGREGATES = (Location, Stock, Reservation, Discrepancy)
"""Every aggregate whose events the inventory service stores."""

__all__ = [
    "AGGREGATES",
    "ANY_CHANNEL",
    "CONFIRMED_REASON",
    "NO_RULE",
    "REJECTED_REASON",
    "Allocation",
    "ChannelLevel",
    "ChannelRule",
    "ChannelRules",
    "Discrepancy",
    "DiscrepancyClosedError",
    "DiscrepancyNotFoundError",
    "DiscrepancyStatus",
    "IdempotencyKeyReusedError",
    "InsufficientStockError",
    "InvalidBinError",
    "InventoryError",
    "Level",
    "LevelEvent",
    "Line",
    "Location",
    "LocationConflictError",
    "LocationNotFoundError",
    "Movement",
    "PickedLine",
    "QuarantineError",
    "Reservation",
    "ReservationStatus",
    "ReturnedLine",
    "Shortage",
    "Stock",
    "StockNotFoundError",
    "channel_atp",
    "channel_level",
    "channel_levels",
    "discrepancy_id_for",
    "in_pick_path_order",
    "location_atp",
    "location_id_for",
    "merge_lines",
    "movement_id_for",
    "normalize_bin",
    "open_atp",
    "pick_path_key",
    "rank_locations",
    "reservation_id_for",
    "route",
    "stock_id_for",
]
