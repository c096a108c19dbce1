"""Inventory domain: locations, stock per SKU per location, bins, reservations, discrepancies.

stdlib + eventsourcing.domain only; split into modules by aggregate, imported from here.
"""

from services.inventory_service.domain.atp import (
    NO_RULE,
    ChannelRule,
    ChannelRules,
    channel_atp,
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
from services.inventory_service.domain.purchase_order import PurchaseOrder, PurchaseOrderStatus
from services.inventory_service.domain.reservation import Reservation, ReservationStatus
from services.inventory_service.domain.stock import Stock
from services.inventory_service.domain.supply import (
    NOW,
    Incoming,
    OverReceiptError,
    SupplyConflictError,
    SupplyNotFoundError,
    covers,
    promise_date,
    purchase_order_id_for,
    transfer_id_for,
)
from services.inventory_service.domain.transfer import Transfer, TransferStatus

AGGREGATES = (Location, Stock, Reservation, Discrepancy, Transfer, PurchaseOrder)
"""Every aggregate whose events the inventory service stores."""

__all__ = [
    "AGGREGATES",
    "CONFIRMED_REASON",
    "NOW",
    "NO_RULE",
    "REJECTED_REASON",
    "Allocation",
    "ChannelRule",
    "ChannelRules",
    "Discrepancy",
    "DiscrepancyClosedError",
    "DiscrepancyNotFoundError",
    "DiscrepancyStatus",
    "IdempotencyKeyReusedError",
    "Incoming",
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
    "OverReceiptError",
    "PickedLine",
    "PurchaseOrder",
    "PurchaseOrderStatus",
    "QuarantineError",
    "Reservation",
    "ReservationStatus",
    "ReturnedLine",
    "Shortage",
    "Stock",
    "StockNotFoundError",
    "SupplyConflictError",
    "SupplyNotFoundError",
    "Transfer",
    "TransferStatus",
    "channel_atp",
    "covers",
    "discrepancy_id_for",
    "in_pick_path_order",
    "location_atp",
    "location_id_for",
    "merge_lines",
    "movement_id_for",
    "normalize_bin",
    "open_atp",
    "pick_path_key",
    "promise_date",
    "purchase_order_id_for",
    "rank_locations",
    "reservation_id_for",
    "route",
    "stock_id_for",
    "transfer_id_for",
]
