"""Use cases driven by the order and inventory topics: shipments, cancellations, bins."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.fulfillment_service.application.base import WarehouseApplication
from services.fulfillment_service.domain import (
    BinAssignment,
    PickList,
    Shipment,
    bin_id_for,
    plan_shipments,
)
from shared.runtime.application import UnitOfWork


class OrderUseCases(WarehouseApplication):
    """Shipments follow their orders; bins follow inventory."""

    def describe_order(
        self, order_id: UUID, order_ref: dict[str, Any], uow: UnitOfWork | None = None
    ) -> None:
        """Remember the order's number and date for the papers that go in the box."""
        with self.unit_of_work(uow) as work:
            self._index(work, order_id).describe(order_ref)

    def create_shipments(
        self,
        order_id: UUID,
        allocations: list[dict[str, Any]],
        ship_to: dict[str, Any],
        customer_name: str,
        ordered: list[dict[str, Any]] | None = None,
        uow: UnitOfWork | None = None,
    ) -> list[Shipment]:
        """One shipment per allocated location; nothing if done before or the order is cancelled."""
        with self.unit_of_work(uow) as work:
            index = self._index(work, order_id)
            if not index.awaits_confirmation:
                return []
            order = {**index.order_ref, "lines": ordered or []}
            shipments = [
                Shipment(
                    order_id=order_id,
                    location_id=location_id,
                    lines=lines,
                    ship_to=ship_to,
                    customer_name=customer_name,
                    order=order,
                )
                for location_id, lines in plan_shipments(allocations).items()
            ]
            for shipment in shipments:
                work.add(shipment)
            index.confirm([s.id for s in shipments])
            return shipments

    def cancel_shipments(
        self, order_id: UUID, reason: str, uow: UnitOfWork | None = None
    ) -> list[Shipment]:
        """The order was cancelled: cancel its shipments that have not left; returns those."""
        with self.unit_of_work(uow) as work:
            index = self._index(work, order_id)
            if not index.cancel(reason):
                return []
            cancelled = []
            for shipment_id in index.shipment_ids:
                shipment = work.get(UUID(shipment_id), Shipment)
                pick_list_id = shipment.pick_list_id if shipment.status == "picking" else None
                if shipment.cancel(reason):
                    cancelled.append(shipment)
                if pick_list_id is not None:
                    self._drop_from_pick_list(work, UUID(pick_list_id), shipment.id)
            return cancelled

    def _drop_from_pick_list(self, work: UnitOfWork, pick_list_id: UUID, shipment_id: UUID) -> None:
        """A cancelled shipment leaves its open pick list; an emptied list is cancelled."""
        pick_list = work.get(pick_list_id, PickList)
        if not pick_list.drop_shipment(shipment_id):
            return
        if not pick_list.shipment_ids:
            pick_list.cancel("every shipment on it was cancelled")
        else:
            self._finish_picking(work, pick_list)

    def _finish_picking(self, work: UnitOfWork, pick_list: PickList) -> None:
        """When every line is confirmed, hand each shipment what was picked for it."""
        if not pick_list.all_confirmed:
            return
        for shipment_id, lines in pick_list.picks_by_shipment().items():
            work.get(UUID(shipment_id), Shipment).record_pick(pick_list.id, lines)
        pick_list.complete()

    def assign_bin(
        self, location_id: str, sku: str, bin: str, uow: UnitOfWork | None = None
    ) -> bool:
        """Inventory put the SKU in this bin at this location; returns whether that is news."""
        with self.unit_of_work(uow) as work:
            assignment = work.find(bin_id_for(location_id, sku), BinAssignment)
            if assignment is None:
                work.add(BinAssignment(location_id=location_id, sku=sku, bin=bin))
                return True
            return assignment.move(bin)
