"""The Shipments application: use cases grouped by module, composed as attributes.

`app.orders`, `app.picking`, `app.packing` and `app.printing` are groups of use cases
(docs/architecture.md, The rooms of a service); each command is a `@use_case` that runs in
one unit of work: get -> call the aggregates -> save.
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from services.fulfillment_service.application.bookings import Bookings
from services.fulfillment_service.application.catalogue import Catalogue
from services.fulfillment_service.application.orders import Orders
from services.fulfillment_service.application.packing import Packing
from services.fulfillment_service.application.picking import Picking
from services.fulfillment_service.application.ports import (
    BoughtLabel,
    Carrier,
    Carriers,
    IssueSerials,
    LabelCarrier,
    LabelRequest,
    Purchase,
    TrackingUpdate,
    TrackingWebhook,
)
from services.fulfillment_service.application.printing import (
    PickListPapers,
    Printing,
    ShipmentPapers,
)
from services.fulfillment_service.domain import (
    Address,
    LocationAddress,
    OrderShipments,
    PickList,
    PickListNotFoundError,
    SerialCounter,
    ShipFrom,
    Shipment,
    ShipmentNotFoundError,
    SsccFormat,
    location_address_id_for,
    order_shipments_id_for,
)
from shared.runtime.application import ServiceApplication

A = TypeVar("A", bound=Aggregate)


class Shipments(ServiceApplication):
    """Shipments of confirmed orders from open to shipped: pick lists, packages, carriers."""

    # Every package takes a serial from one counter: snapshots keep its replay short.
    snapshotting_intervals = {SerialCounter: 100}
    # The merchant's carriers and ship-from addresses, given by bootstrap through configure().
    carriers: Carriers
    ship_from: ShipFrom

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sscc_format = SsccFormat()
        self.orders = Orders(self)
        self.picking = Picking(self)
        self.packing = Packing(self)
        self.printing = Printing(self)
        self.catalogue = Catalogue(self)
        self.bookings = Bookings(self)

    def configure(self, sscc_format: SsccFormat, carriers: Carriers, ship_from: ShipFrom) -> None:
        """Use the merchant's GS1 prefix, carriers and ship-from addresses."""
        self.sscc_format = sscc_format
        self.carriers = carriers
        self.ship_from = ship_from

    # -- queries: aggregates as their events say they are now --------------------------------

    def ship_from_address(self, location_id: str) -> Address:
        """Where a location's parcels leave from: its address as inventory published it, else
        the configured one (OMS_FULFILLMENT_LOCATION_ADDRESSES, then OMS_FULFILLMENT_SHIP_FROM)."""
        try:
            known: Aggregate = self.repository.get(location_address_id_for(location_id))
        except AggregateNotFoundError:
            return self.ship_from.address(location_id)
        assert isinstance(known, LocationAddress)
        return Address(**known.address)

    def get_shipment(self, shipment_id: UUID) -> Shipment:
        """The shipment as its events say it is now."""
        error = ShipmentNotFoundError(f"no shipment {shipment_id}")
        return self._stored(shipment_id, Shipment, error)

    def get_pick_list(self, pick_list_id: UUID) -> PickList:
        """The pick list as its events say it is now."""
        error = PickListNotFoundError(f"no pick list {pick_list_id}")
        return self._stored(pick_list_id, PickList, error)

    def get_order_shipments(self, order_id: UUID) -> OrderShipments | None:
        """The index of an order's shipments, or None if fulfillment never heard of the order."""
        try:
            index: Aggregate = self.repository.get(order_shipments_id_for(order_id))
        except AggregateNotFoundError:
            return None
        assert isinstance(index, OrderShipments)
        return index

    def _stored(self, aggregate_id: UUID, kind: type[A], error: Exception) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise error from None
        if not isinstance(aggregate, kind):
            raise error
        return aggregate


__all__ = [
    "BoughtLabel",
    "Carrier",
    "Carriers",
    "IssueSerials",
    "LabelCarrier",
    "LabelRequest",
    "PickListPapers",
    "Purchase",
    "ShipmentPapers",
    "Shipments",
    "TrackingUpdate",
    "TrackingWebhook",
]
