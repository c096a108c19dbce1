"""Inventory HTTP API: one router per resource, and how domain errors answer.

Routers parse, call one use case or one view query, and shape the answer; a domain error
becomes the problem+json status ERROR_STATUSES gives it.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.inventory_service import domain
from services.inventory_service.api import (
    atp,
    bins,
    discrepancies,
    items,
    locations,
    purchase_orders,
    reservations,
    stock,
    transfers,
)
from shared.runtime.access import AccessPolicy, Grant, Rule

# Discrepancies come before stock: its GET /stock/{sku:path} would take their paths.
ROUTERS: list[APIRouter] = [
    locations.router,
    bins.router,
    discrepancies.router,
    stock.router,
    reservations.router,
    atp.router,
    items.router,
    transfers.router,
    purchase_orders.router,
]

ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    domain.LocationNotFoundError: (404, "Location not found"),
    domain.LocationConflictError: (409, "Location conflict"),
    domain.StockNotFoundError: (404, "Stock not found"),
    domain.InsufficientStockError: (409, "Insufficient stock"),
    domain.IdempotencyKeyReusedError: (422, "Idempotency key reused"),
    domain.InvalidBinError: (422, "Invalid bin"),
    domain.QuarantineError: (422, "Not enough units"),
    domain.DiscrepancyNotFoundError: (404, "Discrepancy not found"),
    domain.DiscrepancyClosedError: (409, "Discrepancy already resolved"),
    domain.ItemNotFoundError: (404, "Item not found"),
    domain.InvalidItemError: (422, "Invalid item"),
    domain.BarcodeTakenError: (409, "Barcode belongs to another item"),
    domain.SupplyNotFoundError: (404, "Transfer or purchase order not found"),
    domain.SupplyConflictError: (409, "Transfer or purchase order conflict"),
    domain.OverReceiptError: (409, "Over-receipt"),
}

ACCESS = AccessPolicy(
    {
        "/locations": Rule(writes=Grant.OPS),
        "/stock": Rule(writes=Grant.OPS_OR_WAREHOUSE),  # receipts, adjustments, bins, quarantine
        "/stock/{sku:path}/safety-stock": Rule(writes=Grant.OPS),
        "/reservations": Rule(writes=Grant.OPS),
        "/atp": Rule(writes=Grant.OPS),
        "/atp/check": Rule(writes=Grant.SIGNED_IN),  # a question asked with a body
        "/items": Rule(writes=Grant.OPS),
        "/transfers": Rule(writes=Grant.OPS_OR_WAREHOUSE),
        "/purchase-orders": Rule(writes=Grant.OPS_OR_WAREHOUSE),
    }
)
"""Who may call what: the warehouse moves stock, ops set policy, every role reads."""

__all__ = ["ACCESS", "ERROR_STATUSES", "ROUTERS"]
