"""Short picks and discrepancies: release the missing units, propose them to ops, resolve."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from services.inventory_service.application.allocation import fill_backorders, stock_of
from services.inventory_service.domain import (
    Discrepancy,
    DiscrepancyNotFoundError,
    PickedLine,
    Reservation,
    discrepancy_id_for,
    movement_id_for,
    reservation_id_for,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    # Named as a string by the base class below (the package imports this module).
    from services.inventory_service.application import Inventory  # noqa: F401


class Short(TypedDict):
    """One SKU a picker came back short on: units expected and picked, and the bin named."""

    expected: int
    picked: int
    bin: str | None


class Discrepancies(UseCases["Inventory"]):
    """Units a picker did not find: released from the order, proposed to ops, then decided."""

    @use_case
    def record_short_pick(
        self,
        shipment_id: UUID,
        order_id: UUID,
        location_id: str,
        pick_list_id: UUID,
        lines: list[PickedLine],
        uow: UnitOfWork | None = None,
    ) -> list[Discrepancy]:
        """A picker found fewer units than expected: release them, propose a discrepancy each."""
        with self.app.unit_of_work(uow) as work:
            return _propose(work, shipment_id, order_id, location_id, pick_list_id, lines)

    @use_case
    def confirm(
        self, discrepancy_id: UUID, note: str | None = None, uow: UnitOfWork | None = None
    ) -> Discrepancy:
        """Ops agree the units are gone: on hand drops by them (once)."""
        with self.app.unit_of_work(uow) as work:
            return _resolve(work, discrepancy_id, confirm=True, note=note)

    @use_case
    def reject(
        self, discrepancy_id: UUID, note: str | None = None, uow: UnitOfWork | None = None
    ) -> Discrepancy:
        """Ops found the units: on hand stays, they can be promised again."""
        with self.app.unit_of_work(uow) as work:
            return _resolve(work, discrepancy_id, confirm=False, note=note)

    def get(self, discrepancy_id: UUID) -> Discrepancy:
        """A discrepancy as its events say it is now."""
        try:
            discrepancy: Aggregate = self.app.repository.get(discrepancy_id)
        except AggregateNotFoundError:
            raise DiscrepancyNotFoundError(f"no discrepancy {discrepancy_id}") from None
        if not isinstance(discrepancy, Discrepancy):
            raise DiscrepancyNotFoundError(f"no discrepancy {discrepancy_id}")
        return discrepancy


def short_lines(lines: list[PickedLine]) -> dict[str, Short]:
    """Per SKU, the lines a picker came back short on: expected, picked and the bin."""
    short: dict[str, Short] = {}
    for line in lines:
        if line["picked"] >= line["expected"]:
            continue
        found = short.setdefault(line["sku"], {"expected": 0, "picked": 0, "bin": line["bin"]})
        found["expected"] += line["expected"]
        found["picked"] += line["picked"]
    return short


def _propose(
    work: UnitOfWork,
    shipment_id: UUID,
    order_id: UUID,
    location_id: str,
    pick_list_id: UUID,
    lines: list[PickedLine],
) -> list[Discrepancy]:
    """One discrepancy per short SKU; a SKU proposed before (a redelivery) changes nothing."""
    proposed: list[Discrepancy] = []
    released: dict[str, int] = {}
    reservation = work.find(reservation_id_for(order_id), Reservation)
    for sku, line in sorted(short_lines(lines).items()):
        if work.find(discrepancy_id_for(pick_list_id, shipment_id, sku), Discrepancy):
            continue
        stock = stock_of(work, sku)
        quantity = line["expected"] - line["picked"]
        discrepancy = Discrepancy(
            sku=sku,
            location_id=location_id,
            bin=line["bin"] or stock.bin_at(location_id),
            quantity=quantity,
            order_id=order_id,
            shipment_id=shipment_id,
            pick_list_id=pick_list_id,
            expected=line["expected"],
            picked=line["picked"],
        )
        work.add(discrepancy)
        proposed.append(discrepancy)
        held = reservation.held_at(sku, location_id) if reservation is not None else 0
        units = stock.report_short(str(discrepancy.id), str(order_id), location_id, quantity, held)
        if units:
            released[sku] = units
    if released and reservation is not None:
        reservation.release_short(location_id, released)
    return proposed


def _resolve(
    work: UnitOfWork, discrepancy_id: UUID, *, confirm: bool, note: str | None
) -> Discrepancy:
    """Confirm (on hand drops) or reject (units found) a discrepancy, as one stock adjustment."""
    discrepancy = work.find(discrepancy_id, Discrepancy)
    if discrepancy is None:
        raise DiscrepancyNotFoundError(f"no discrepancy {discrepancy_id}")
    decided = discrepancy.confirm(note) if confirm else discrepancy.reject(note)
    if not decided:
        return discrepancy
    stock = stock_of(work, discrepancy.sku)
    location_id, quantity = discrepancy.location_id, discrepancy.quantity
    # Never below zero on hand, even if a count in between already took the units off.
    delta = -min(quantity, stock.on_hand(location_id)) if confirm else 0
    stock.adjust(
        movement_id_for("discrepancy", str(discrepancy.id)),
        location_id,
        delta,
        discrepancy.adjustment_reason,
        missing_resolved=quantity,
    )
    if not confirm:
        fill_backorders(work, [discrepancy.sku])
    return discrepancy
