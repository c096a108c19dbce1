"""Stock of a SKU: receipts, adjustments and bins, and reading it as it is now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from services.inventory_service.application.allocation import (
    fill_backorders,
    location_of,
    new_id,
    stock_of,
)
from services.inventory_service.domain import (
    Stock,
    StockNotFoundError,
    movement_id_for,
    stock_id_for,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    # Named as a string by the base class below (the package imports this module).
    from services.inventory_service.application import Inventory  # noqa: F401


class Stocks(UseCases["Inventory"]):
    """Units arriving, counted or put away at a location; what arrives serves waiting orders."""

    @use_case
    def receive(
        self,
        location_id: str,
        sku: str,
        quantity: int,
        reference: str | None = None,
        idempotency_key: str | None = None,
        bin_code: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> tuple[str, Stock]:
        """Units arrived at a location (into a bin); waiting orders are served first come first."""
        receipt_id = movement_id_for("receipt", idempotency_key) if idempotency_key else new_id()
        with self.app.unit_of_work(uow) as work:
            location_of(work, location_id)
            stock = stock_of(work, sku)
            if stock.receive(receipt_id, location_id, quantity, reference, bin_code):
                fill_backorders(work, [sku])
            return receipt_id, stock

    @use_case
    def adjust(
        self,
        location_id: str,
        sku: str,
        quantity_delta: int,
        reason: str,
        idempotency_key: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> tuple[str, Stock]:
        """Correct on hand (count, damage, loss); found units serve waiting orders."""
        key = idempotency_key
        adjustment_id = movement_id_for("adjustment", key) if key else new_id()
        with self.app.unit_of_work(uow) as work:
            location_of(work, location_id)
            stock = stock_of(work, sku)
            applied = stock.adjust(adjustment_id, location_id, quantity_delta, reason)
            if applied and quantity_delta > 0:
                fill_backorders(work, [sku])
            return adjustment_id, stock

    @use_case
    def quarantine(
        self,
        location_id: str,
        sku: str,
        quantity: int,
        reason: str,
        idempotency_key: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> tuple[str, Stock]:
        """Take sellable units at a location into quarantine (never what is reserved)."""
        key = idempotency_key
        movement_id = movement_id_for("quarantine", key) if key else new_id()
        with self.app.unit_of_work(uow) as work:
            location_of(work, location_id)
            stock = stock_of(work, sku)
            stock.quarantine(movement_id, location_id, quantity, reason)
            return movement_id, stock

    @use_case
    def release_quarantine(
        self,
        location_id: str,
        sku: str,
        quantity: int,
        to: str,
        reason: str,
        idempotency_key: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> tuple[str, Stock]:
        """Ops decided: quarantined units become sellable (serving waiting orders) or scrap."""
        key = idempotency_key
        movement_id = movement_id_for("quarantine-release", key) if key else new_id()
        with self.app.unit_of_work(uow) as work:
            location_of(work, location_id)
            stock = stock_of(work, sku)
            applied = stock.release_quarantine(movement_id, location_id, quantity, to, reason)
            if applied and to == "sellable":
                fill_backorders(work, [sku])
            return movement_id, stock

    @use_case
    def assign_bin(
        self, location_id: str, sku: str, bin_code: str, uow: UnitOfWork | None = None
    ) -> str | None:
        """Put a SKU away into a bin, or move it to another; returns the bin it had before."""
        with self.app.unit_of_work(uow) as work:
            location_of(work, location_id)
            stock = stock_of(work, sku)
            previous = stock.bin_at(location_id)
            stock.assign_bin(location_id, bin_code)
            return previous

    def get(self, sku: str) -> Stock:
        """A SKU's stock as its events say it is now."""
        try:
            # The repository brings a cached copy up to date with what other instances stored.
            stock: Aggregate = self.app.repository.get(stock_id_for(sku))
        except AggregateNotFoundError:
            raise StockNotFoundError(f"no stock was ever recorded for {sku}") from None
        if not isinstance(stock, Stock):
            raise StockNotFoundError(f"no stock was ever recorded for {sku}")
        return stock
