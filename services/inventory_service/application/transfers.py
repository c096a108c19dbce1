"""Transfers: stock moving between locations, in transit until received at the destination."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from services.inventory_service.application.allocation import (
    fill_backorders,
    location_of,
    new_id,
    stock_of,
)
from services.inventory_service.application.promises import refresh_promises
from services.inventory_service.domain import (
    Line,
    SupplyConflictError,
    SupplyNotFoundError,
    Transfer,
    transfer_id_for,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    # Named as a string by the base class below (the package imports this module).
    from services.inventory_service.application import Inventory  # noqa: F401


class Transfers(UseCases["Inventory"]):
    """Ship units from one location to another, receive them in parts, or call it off.

    Each use case changes the Transfer and the Stock of each of its SKUs in one unit of work,
    so units are never both at the source and in transit, nor received twice.
    """

    @use_case
    def ship(
        self,
        transfer_id: str,
        from_location: str,
        to_location: str,
        lines: list[Line],
        expected_at: datetime | None = None,
        uow: UnitOfWork | None = None,
    ) -> tuple[Transfer, bool]:
        """Units leave the source, all lines or none (each must be available there); (transfer,
        created). The same transfer posted again changes nothing."""
        with self.app.unit_of_work(uow) as work:
            transfer = work.find(transfer_id_for(transfer_id), Transfer)
            if transfer is not None:
                if not transfer.same_as(from_location, to_location, lines, expected_at):
                    raise SupplyConflictError(
                        f"transfer {transfer_id} exists from {transfer.from_location} to"
                        f" {transfer.to_location} with {transfer.shipped}"
                    )
                return transfer, False
            location_of(work, from_location)
            location_of(work, to_location)
            transfer = Transfer(
                transfer_id=transfer_id,
                from_location=from_location,
                to_location=to_location,
                lines=lines,
                expected_at=expected_at,
            )
            work.add(transfer)
            for sku, quantity in sorted(transfer.shipped.items()):
                stock = stock_of(work, sku)
                stock.ship_transfer(transfer_id, from_location, to_location, quantity, expected_at)
            refresh_promises(work, transfer.shipped, supply_changed=True)
            return transfer, True

    @use_case
    def receive(
        self,
        transfer_id: str,
        lines: list[Line],
        receipt_id: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> Transfer:
        """Units of a transfer arrived at its destination (never more than are in transit; a
        receipt seen before changes nothing); waiting orders are served first come first."""
        receipt = receipt_id or new_id()
        with self.app.unit_of_work(uow) as work:
            transfer = _transfer(work, transfer_id)
            units = transfer.receive(receipt, lines)
            for sku, quantity in sorted(units.items()):
                stock = stock_of(work, sku)
                stock.receive_transfer(
                    transfer_id, receipt, transfer.from_location, transfer.to_location, quantity
                )
            fill_backorders(work, units)
            refresh_promises(work, units, supply_changed=True)
            return transfer

    @use_case
    def cancel(self, transfer_id: str, reason: str, uow: UnitOfWork | None = None) -> Transfer:
        """Call a transfer off before anything arrived: its units are back at the source, where
        waiting orders may take them; cancelling again changes nothing."""
        with self.app.unit_of_work(uow) as work:
            transfer = _transfer(work, transfer_id)
            back = transfer.cancel(reason)
            for sku, quantity in sorted(back.items()):
                stock = stock_of(work, sku)
                stock.cancel_transfer(
                    transfer_id, transfer.from_location, transfer.to_location, quantity, reason
                )
            fill_backorders(work, back)
            refresh_promises(work, back, supply_changed=True)
            return transfer

    def get(self, transfer_id: str) -> Transfer:
        """A transfer as its events say it is now."""
        try:
            transfer: Aggregate = self.app.repository.get(transfer_id_for(transfer_id))
        except AggregateNotFoundError:
            raise SupplyNotFoundError(f"no transfer {transfer_id}") from None
        if not isinstance(transfer, Transfer):
            raise SupplyNotFoundError(f"no transfer {transfer_id}")
        return transfer


def _transfer(work: UnitOfWork, transfer_id: str) -> Transfer:
    transfer = work.find(transfer_id_for(transfer_id), Transfer)
    if transfer is None:
        raise SupplyNotFoundError(f"no transfer {transfer_id}")
    return transfer
