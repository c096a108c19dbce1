"""Purchase orders: units on order from suppliers, expected at a location, received in parts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from services.inventory_service.application.allocation import (
    fill_backorders,
    location_of,
    stock_of,
)
from services.inventory_service.application.promises import refresh_promises
from services.inventory_service.domain import (
    Line,
    PurchaseOrder,
    SupplyConflictError,
    SupplyNotFoundError,
    purchase_order_id_for,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    # Named as a string by the base class below (the package imports this module).
    from services.inventory_service.application import Inventory  # noqa: F401


class PurchaseOrders(UseCases["Inventory"]):
    """Order units from a supplier, move the expected date, receive them in parts.

    Each SKU's Stock knows what is on order for it and when, so backordered orders can be
    promised a date, and the receipt that brings the units serves them.
    """

    @use_case
    def place(
        self,
        po_id: str,
        location_id: str,
        supplier: str,
        lines: list[Line],
        expected_at: datetime,
        uow: UnitOfWork | None = None,
    ) -> tuple[PurchaseOrder, bool]:
        """Units are on order for a location; (purchase order, created). Posted again with the
        same lines, it changes nothing but the expected date, if that moved."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(purchase_order_id_for(po_id), PurchaseOrder)
            if order is not None:
                if not order.same_as(location_id, supplier, lines):
                    raise SupplyConflictError(
                        f"purchase order {po_id} exists for {order.location_id} from"
                        f" {order.supplier} with {order.ordered}"
                    )
                _reschedule(work, order, expected_at)
                return order, False
            location_of(work, location_id)
            order = PurchaseOrder(
                po_id=po_id,
                location_id=location_id,
                supplier=supplier,
                lines=lines,
                expected_at=expected_at,
            )
            work.add(order)
            _expect(work, order)
            return order, True

    @use_case
    def reschedule(
        self, po_id: str, expected_at: datetime, uow: UnitOfWork | None = None
    ) -> PurchaseOrder:
        """The supplier names another time for what is still on order."""
        with self.app.unit_of_work(uow) as work:
            order = _purchase_order(work, po_id)
            _reschedule(work, order, expected_at)
            return order

    @use_case
    def receive(
        self, po_id: str, receipt_id: str, lines: list[Line], uow: UnitOfWork | None = None
    ) -> PurchaseOrder:
        """Units of a purchase order arrived (never more than are on order; a receipt seen
        before changes nothing); waiting orders are served first come first."""
        with self.app.unit_of_work(uow) as work:
            order = _purchase_order(work, po_id)
            units = order.receive(receipt_id, lines)
            for sku, quantity in sorted(units.items()):
                stock = stock_of(work, sku)
                stock.receive_purchase(po_id, receipt_id, order.location_id, quantity)
            fill_backorders(work, units)
            refresh_promises(work, units, supply_changed=True)
            return order

    def get(self, po_id: str) -> PurchaseOrder:
        """A purchase order as its events say it is now."""
        try:
            order: Aggregate = self.app.repository.get(purchase_order_id_for(po_id))
        except AggregateNotFoundError:
            raise SupplyNotFoundError(f"no purchase order {po_id}") from None
        if not isinstance(order, PurchaseOrder):
            raise SupplyNotFoundError(f"no purchase order {po_id}")
        return order


def _purchase_order(work: UnitOfWork, po_id: str) -> PurchaseOrder:
    order = work.find(purchase_order_id_for(po_id), PurchaseOrder)
    if order is None:
        raise SupplyNotFoundError(f"no purchase order {po_id}")
    return order


def _reschedule(work: UnitOfWork, order: PurchaseOrder, expected_at: datetime) -> None:
    if order.reschedule(expected_at):
        _expect(work, order)


def _expect(work: UnitOfWork, order: PurchaseOrder) -> None:
    """Each SKU's stock learns what is still on order and when; waiting orders are dated."""
    outstanding = order.outstanding
    for sku in sorted(outstanding):
        stock = stock_of(work, sku)
        stock.expect_purchase(order.po_id, order.location_id, outstanding[sku], order.expected_at)
    refresh_promises(work, outstanding, supply_changed=True)
