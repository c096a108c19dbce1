"""Use cases of the pick walk: bins, batching open shipments into a pick list, confirming."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from services.fulfillment_service.application.work import pick_list_in
from services.fulfillment_service.domain import (
    Address,
    BinAssignment,
    LocationAddress,
    NothingToPickError,
    PickConfirmation,
    PickList,
    Shipment,
    ShipmentStatus,
    SlotRequest,
    bin_id_for,
    location_address_id_for,
    pick_list_id_for,
    plan_pick_list,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:  # the application composes this group: imported for the type only
    from services.fulfillment_service.application import Shipments  # noqa: F401

BinsFor = Callable[[list[str]], dict[str, str]]
"""The bin of each of these SKUs at the pick list's location (from the bin view)."""


class Picking(UseCases["Shipments"]):
    """Bins follow inventory; pick lists are made from open shipments, confirmed or cancelled."""

    @use_case
    def assign_bin(
        self, location_id: str, sku: str, bin: str, uow: UnitOfWork | None = None
    ) -> bool:
        """Inventory put the SKU in this bin at this location; returns whether that is news."""
        with self.app.unit_of_work(uow) as work:
            assignment = work.find(bin_id_for(location_id, sku), BinAssignment)
            if assignment is None:
                work.add(BinAssignment(location_id=location_id, sku=sku, bin=bin))
                return True
            return assignment.move(bin)

    @use_case
    def record_location_address(
        self, location_id: str, address: Address, uow: UnitOfWork | None = None
    ) -> bool:
        """Inventory said where a location is: its parcels leave from there; whether news."""
        with self.app.unit_of_work(uow) as work:
            known = work.find(location_address_id_for(location_id), LocationAddress)
            if known is None:
                work.add(LocationAddress(location_id=location_id, address=address))
                return True
            return known.change(address)

    @use_case
    def create_pick_list(
        self,
        location_id: str,
        candidates: Iterable[UUID],
        bins_for: BinsFor,
        max_shipments: int,
        carrier: str | None = None,
        request_key: str | None = None,
    ) -> tuple[PickList, bool]:
        """A pick list of the first open candidates (oldest first); (list, whether it is new)."""
        with self.app.unit_of_work() as work:
            if request_key is not None:
                earlier = work.find(pick_list_id_for(location_id, request_key), PickList)
                if earlier is not None:
                    return earlier, False
            chosen = _free_shipments(work, location_id, candidates, max_shipments)
            if not chosen:
                raise NothingToPickError(f"no open shipment at {location_id} to pick")
            skus = sorted({line["sku"] for s in chosen for line in s.lines})
            slots, lines = plan_pick_list([_slot_request(s) for s in chosen], bins_for(skus))
            pick_list = PickList(
                location_id=location_id,
                carrier=carrier,
                slots=slots,
                lines=lines,
                request_key=request_key,
            )
            work.add(pick_list)
            for slot, shipment in zip(slots, chosen, strict=True):
                shipment.start_picking(pick_list.id, slot["slot"], carrier)
            return pick_list, True

    @use_case
    def confirm_picks(self, pick_list_id: UUID, picks: list[PickConfirmation]) -> PickList:
        """Picked units per line; when all lines are in, the shipments get what was found."""
        with self.app.unit_of_work() as work:
            pick_list = pick_list_in(work, pick_list_id)
            pick_list.confirm(picks)
            finish_picking(work, pick_list)
            return pick_list

    @use_case
    def cancel_pick_list(self, pick_list_id: UUID, reason: str) -> PickList:
        """The walk will not happen: the list is cancelled and its shipments are open again."""
        with self.app.unit_of_work() as work:
            pick_list = pick_list_in(work, pick_list_id)
            pick_list.cancel(reason)
            for shipment_id in pick_list.shipment_ids:
                work.get(UUID(shipment_id), Shipment).release_picking(pick_list.id)
            return pick_list


def finish_picking(work: UnitOfWork, pick_list: PickList) -> None:
    """When every line is confirmed, hand each shipment what was picked for it."""
    if not pick_list.all_confirmed:
        return
    for shipment_id, lines in pick_list.picks_by_shipment().items():
        work.get(UUID(shipment_id), Shipment).record_pick(pick_list.id, lines)
    pick_list.complete()


def drop_from_pick_list(work: UnitOfWork, pick_list_id: UUID, shipment_id: UUID) -> None:
    """A cancelled shipment leaves its open pick list; an emptied list is cancelled."""
    pick_list = work.get(pick_list_id, PickList)
    if not pick_list.drop_shipment(shipment_id):
        return
    if not pick_list.shipment_ids:
        pick_list.cancel("every shipment on it was cancelled")
    else:
        finish_picking(work, pick_list)


def _free_shipments(
    work: UnitOfWork, location_id: str, candidates: Iterable[UUID], limit: int
) -> list[Shipment]:
    """Candidates that are still open at the location (the read model may lag)."""
    chosen: list[Shipment] = []
    for shipment_id in candidates:
        shipment = work.find(shipment_id, Shipment)
        if (
            shipment
            and shipment.status == ShipmentStatus.OPEN
            and shipment.location_id == location_id
        ):
            chosen.append(shipment)
        if len(chosen) == limit:
            break
    return chosen


def _slot_request(shipment: Shipment) -> SlotRequest:
    return SlotRequest(
        shipment_id=shipment.id,
        order_id=shipment.order_id,
        order_number=shipment.order_number,
        lines=shipment.lines,
    )
