"""Use cases of the pick walk: batch open shipments into a pick list, confirm what was found."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from services.fulfillment_service.application.orders import OrderUseCases
from services.fulfillment_service.domain import (
    OPEN,
    NothingToPickError,
    PickList,
    Shipment,
    pick_list_id_for,
    plan_pick_list,
)
from shared.runtime.application import UnitOfWork

BinsFor = Callable[[list[str]], dict[str, str]]


class PickingUseCases(OrderUseCases):
    """Pick lists: made from open shipments, confirmed per line, or cancelled."""

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
        with self.unit_of_work() as work:
            if request_key is not None:
                earlier = work.find(pick_list_id_for(location_id, request_key), PickList)
                if earlier is not None:
                    return earlier, False
            chosen = self._free_shipments(work, location_id, candidates, max_shipments)
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

    @staticmethod
    def _free_shipments(
        work: UnitOfWork, location_id: str, candidates: Iterable[UUID], limit: int
    ) -> list[Shipment]:
        """Candidates that are still open at the location (the read model may lag)."""
        chosen: list[Shipment] = []
        for shipment_id in candidates:
            shipment = work.find(shipment_id, Shipment)
            if shipment and shipment.status == OPEN and shipment.location_id == location_id:
                chosen.append(shipment)
            if len(chosen) == limit:
                break
        return chosen

    def confirm_picks(self, pick_list_id: UUID, picks: list[dict[str, Any]]) -> PickList:
        """Picked units per line; when all lines are in, the shipments get what was found."""
        with self.unit_of_work() as work:
            pick_list = self._pick_list(work, pick_list_id)
            pick_list.confirm(picks)
            self._finish_picking(work, pick_list)
            return pick_list

    def cancel_pick_list(self, pick_list_id: UUID, reason: str) -> PickList:
        """The walk will not happen: the list is cancelled and its shipments are open again."""
        with self.unit_of_work() as work:
            pick_list = self._pick_list(work, pick_list_id)
            pick_list.cancel(reason)
            for shipment_id in pick_list.shipment_ids:
                work.get(UUID(shipment_id), Shipment).release_picking(pick_list.id)
            return pick_list


def _slot_request(shipment: Shipment) -> dict[str, Any]:
    return {
        "shipment_id": shipment.id,
        "order_id": shipment.order_id,
        "order_number": shipment.order.get("external_id"),
        "lines": shipment.lines,
    }
