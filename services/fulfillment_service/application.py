"""The Shipments application: one method per use case, each get -> call -> save."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.fulfillment_service.domain import (
    OrderShipments,
    Shipment,
    ShipmentNotFoundError,
    order_shipments_id_for,
    plan_shipments,
)
from shared.runtime.application import ServiceApplication, UnitOfWork


class Shipments(ServiceApplication):
    """Shipments of confirmed orders, one per order per location, until they leave."""

    def create_shipments(
        self,
        order_id: UUID,
        allocations: list[dict[str, Any]],
        ship_to: dict[str, Any],
        customer_name: str,
        uow: UnitOfWork | None = None,
    ) -> list[Shipment]:
        """One shipment per allocated location; nothing if done before or the order is cancelled."""
        with self.unit_of_work(uow) as work:
            index = self._index(work, order_id)
            if not index.awaits_confirmation:
                return []
            shipments = [
                Shipment(
                    order_id=order_id,
                    location_id=location_id,
                    lines=lines,
                    ship_to=ship_to,
                    customer_name=customer_name,
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
            shipments = [work.get(UUID(i), Shipment) for i in index.shipment_ids]
            return [s for s in shipments if s.cancel(reason)]

    def ship(
        self, shipment_id: UUID, carrier: str, tracking_number: str, uow: UnitOfWork | None = None
    ) -> Shipment:
        """The shipment left with a carrier; returns the shipment as it now is."""
        with self.unit_of_work(uow) as work:
            shipment = self._get(work, shipment_id)
            shipment.ship(carrier, tracking_number)
            return shipment

    def get_shipment(self, shipment_id: UUID) -> Shipment:
        """The shipment as its events say it is now."""
        try:
            shipment: Any = self.repository.get(shipment_id)
        except AggregateNotFoundError:
            raise ShipmentNotFoundError(f"no shipment {shipment_id}") from None
        if not isinstance(shipment, Shipment):
            raise ShipmentNotFoundError(f"no shipment {shipment_id}")
        return shipment

    def get_order_shipments(self, order_id: UUID) -> OrderShipments | None:
        """The index of an order's shipments, or None if fulfillment never heard of the order."""
        try:
            index: Any = self.repository.get(order_shipments_id_for(order_id))
        except AggregateNotFoundError:
            return None
        assert isinstance(index, OrderShipments)
        return index

    @staticmethod
    def _index(work: UnitOfWork, order_id: UUID) -> OrderShipments:
        """The order's index of shipments, registered on first contact."""
        index = work.find(order_shipments_id_for(order_id), OrderShipments)
        if index is None:
            index = OrderShipments(order_id=order_id)
            work.add(index)
        return index

    @staticmethod
    def _get(work: UnitOfWork, shipment_id: UUID) -> Shipment:
        shipment = work.find(shipment_id, Shipment)
        if shipment is None:
            raise ShipmentNotFoundError(f"no shipment {shipment_id}")
        return shipment
