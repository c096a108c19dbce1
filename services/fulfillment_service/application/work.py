"""Aggregates as a use case finds them in its unit of work (shared by the use-case groups)."""

from __future__ import annotations

from uuid import UUID

from services.fulfillment_service.domain import (
    OrderShipments,
    PickList,
    PickListNotFoundError,
    SerialCounter,
    Shipment,
    ShipmentNotFoundError,
    order_shipments_id_for,
)
from shared.runtime.application import UnitOfWork


def shipment_in(work: UnitOfWork, shipment_id: UUID) -> Shipment:
    """The shipment; ShipmentNotFoundError if there is none (or the id is another aggregate's)."""
    shipment = work.find(shipment_id, Shipment)
    if shipment is None:
        raise ShipmentNotFoundError(f"no shipment {shipment_id}")
    return shipment


def pick_list_in(work: UnitOfWork, pick_list_id: UUID) -> PickList:
    """The pick list; PickListNotFoundError if there is none."""
    pick_list = work.find(pick_list_id, PickList)
    if pick_list is None:
        raise PickListNotFoundError(f"no pick list {pick_list_id}")
    return pick_list


def order_index_in(work: UnitOfWork, order_id: UUID) -> OrderShipments:
    """The order's index of shipments, registered on first contact."""
    index = work.find(order_shipments_id_for(order_id), OrderShipments)
    if index is None:
        index = OrderShipments(order_id=order_id)
        work.add(index)
    return index


def issue_serials(work: UnitOfWork, purpose: str, count: int) -> list[int]:
    """The next serials of a counter, started on first use."""
    counter = work.find(SerialCounter.create_id(purpose), SerialCounter)
    if counter is None:
        counter = SerialCounter(purpose=purpose)
        work.add(counter)
    return counter.issue(count)
