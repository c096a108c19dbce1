"""Short picks in one unit of work: release the missing units, propose and resolve discrepancies."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.inventory_service.application.allocation import fill_backorders, stock_of
from services.inventory_service.domain import (
    Discrepancy,
    DiscrepancyNotFoundError,
    Reservation,
    discrepancy_id_for,
    movement_id_for,
    reservation_id_for,
)
from shared.runtime.application import UnitOfWork


def short_lines(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per SKU, the lines a picker came back short on: expected, picked and the bin."""
    short: dict[str, dict[str, Any]] = {}
    for line in lines:
        if line["picked"] >= line["expected"]:
            continue
        found = short.setdefault(line["sku"], {"expected": 0, "picked": 0, "bin": line.get("bin")})
        found["expected"] += line["expected"]
        found["picked"] += line["picked"]
    return short


def propose_discrepancies(
    work: UnitOfWork,
    shipment_id: UUID,
    order_id: UUID,
    location_id: str,
    pick_list_id: UUID,
    lines: list[dict[str, Any]],
) -> list[Discrepancy]:
    """One discrepancy per short SKU; a SKU proposed before (a redelivery) changes nothing."""
    proposed, released = [], {}
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


def resolve_discrepancy(
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
