"""The base of the Shipments application: configuration and lookups shared by the use cases."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.fulfillment_service.domain import (
    OrderShipments,
    PickList,
    PickListNotFoundError,
    SerialCounter,
    Shipment,
    ShipmentNotFoundError,
    order_shipments_id_for,
)
from services.fulfillment_service.gs1 import SsccFormat
from services.fulfillment_service.shipping import (
    DEFAULT_RATE_TABLE,
    DEFAULT_SHIP_FROM,
    Carriers,
    ShipFrom,
)
from shared.runtime.application import ServiceApplication, UnitOfWork


class WarehouseApplication(ServiceApplication):
    """Event-sourced fulfillment with the merchant's GS1 prefix, carriers and addresses."""

    # Every package takes a serial from one counter: snapshots keep its replay short.
    snapshotting_intervals = {SerialCounter: 100}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sscc_format = SsccFormat()
        self.carriers = Carriers.from_config([DEFAULT_RATE_TABLE])
        self.ship_from = ShipFrom(DEFAULT_SHIP_FROM)

    def configure(self, sscc_format: SsccFormat, carriers: Carriers, ship_from: ShipFrom) -> None:
        """Use the merchant's settings instead of the built-in defaults."""
        self.sscc_format = sscc_format
        self.carriers = carriers
        self.ship_from = ship_from

    def get_shipment(self, shipment_id: UUID) -> Shipment:
        """The shipment as its events say it is now."""
        return self._stored(
            shipment_id, Shipment, ShipmentNotFoundError(f"no shipment {shipment_id}")
        )

    def get_pick_list(self, pick_list_id: UUID) -> PickList:
        """The pick list as its events say it is now."""
        error = PickListNotFoundError(f"no pick list {pick_list_id}")
        return self._stored(pick_list_id, PickList, error)

    def get_order_shipments(self, order_id: UUID) -> OrderShipments | None:
        """The index of an order's shipments, or None if fulfillment never heard of the order."""
        try:
            index: Any = self.repository.get(order_shipments_id_for(order_id))
        except AggregateNotFoundError:
            return None
        assert isinstance(index, OrderShipments)
        return index

    def _stored(self, aggregate_id: UUID, kind: type, error: Exception) -> Any:
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise error from None
        if not isinstance(aggregate, kind):
            raise error
        return aggregate

    @staticmethod
    def _shipment(work: UnitOfWork, shipment_id: UUID) -> Shipment:
        shipment = work.find(shipment_id, Shipment)
        if shipment is None:
            raise ShipmentNotFoundError(f"no shipment {shipment_id}")
        return shipment

    @staticmethod
    def _pick_list(work: UnitOfWork, pick_list_id: UUID) -> PickList:
        pick_list = work.find(pick_list_id, PickList)
        if pick_list is None:
            raise PickListNotFoundError(f"no pick list {pick_list_id}")
        return pick_list

    @staticmethod
    def _index(work: UnitOfWork, order_id: UUID) -> OrderShipments:
        """The order's index of shipments, registered on first contact."""
        index = work.find(order_shipments_id_for(order_id), OrderShipments)
        if index is None:
            index = OrderShipments(order_id=order_id)
            work.add(index)
        return index

    @staticmethod
    def _issue(work: UnitOfWork, purpose: str, count: int) -> list[int]:
        """The next serials of a counter, started on first use."""
        counter = work.find(SerialCounter.create_id(purpose), SerialCounter)
        if counter is None:
            counter = SerialCounter(purpose=purpose)
            work.add(counter)
        return counter.issue(count)
