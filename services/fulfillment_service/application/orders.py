"""Use cases driven by the order topic: shipments follow their orders."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from services.fulfillment_service.application.picking import drop_from_pick_list
from services.fulfillment_service.application.work import order_index_in
from services.fulfillment_service.domain import (
    Address,
    Allocation,
    ItemLine,
    OrderRef,
    OrderShipments,
    OrderSummary,
    Shipment,
    ShipmentStatus,
    order_shipments_id_for,
    plan_shipments,
)
from shared.money import money
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:  # the application composes this group: imported for the type only
    from services.fulfillment_service.application import Shipments  # noqa: F401


class Orders(UseCases["Shipments"]):
    """Shipments are created when their order is confirmed, readdressed and cancelled with it."""

    @use_case
    def describe_order(
        self, order_id: UUID, order_ref: OrderRef, uow: UnitOfWork | None = None
    ) -> None:
        """Remember the order's number and date for the papers that go in the box."""
        with self.app.unit_of_work(uow) as work:
            order_index_in(work, order_id).describe(order_ref)

    @use_case
    def owe_on_delivery(
        self, order_id: UUID, amount: Decimal, currency: str, uow: UnitOfWork | None = None
    ) -> None:
        """The order is paid on delivery: the carrier of its first shipment collects `amount`."""
        with self.app.unit_of_work(uow) as work:
            order_index_in(work, order_id).owe_on_delivery(money(amount, currency), currency)

    @use_case
    def reprice_on_delivery(
        self, order_id: UUID, less: Decimal, more: Decimal, uow: UnitOfWork | None = None
    ) -> None:
        """An edit of a cash-on-delivery order took `less` off what is owed and added `more`
        (the consumer applies each edit once); an order paid before owes nothing on delivery."""
        with self.app.unit_of_work(uow) as work:
            index = work.find(order_shipments_id_for(order_id), OrderShipments)
            if index is None or index.cash_on_delivery is None:
                return
            owed, currency = index.cash_on_delivery["amount"], index.cash_on_delivery["currency"]
            amount = max(Decimal(owed) - less + more, Decimal(0))
            index.owe_on_delivery(money(amount, currency), currency)

    @use_case
    def create_shipments(
        self,
        order_id: UUID,
        allocations: list[Allocation],
        ship_to: Address,
        customer_name: str,
        ordered: list[ItemLine] | None = None,
        uow: UnitOfWork | None = None,
    ) -> list[Shipment]:
        """One shipment per allocated location; nothing if done before or the order is cancelled."""
        with self.app.unit_of_work(uow) as work:
            index = order_index_in(work, order_id)
            if not index.awaits_confirmation:
                return []
            order = OrderSummary(**index.order_ref, lines=ordered or [])
            shipments = [
                Shipment(
                    order_id=order_id,
                    location_id=location_id,
                    lines=lines,
                    ship_to=ship_to,
                    customer_name=customer_name,
                    order=order,
                    revision=index.revision,
                )
                for location_id, lines in plan_shipments(allocations).items()
            ]
            for shipment in shipments:
                work.add(shipment)
            index.confirm([s.id for s in shipments])
            return shipments

    @use_case
    def create_part_shipments(
        self,
        order_id: UUID,
        part: str,
        allocations: list[Allocation],
        ship_to: Address,
        customer_name: str,
        ordered: list[ItemLine] | None = None,
        uow: UnitOfWork | None = None,
    ) -> list[Shipment]:
        """Units sourced again after a short pick: one more shipment per location they are
        held at, on top of the order's (once per part; nothing once the order was cancelled)."""
        with self.app.unit_of_work(uow) as work:
            index = order_index_in(work, order_id)
            if not index.takes_part(part):
                return []
            order = OrderSummary(**index.order_ref, lines=ordered or [])
            shipments = [
                Shipment(
                    order_id=order_id,
                    location_id=location_id,
                    lines=lines,
                    ship_to=ship_to,
                    customer_name=customer_name,
                    order=order,
                    revision=index.revision,
                    part=part,
                )
                for location_id, lines in plan_shipments(allocations).items()
            ]
            for shipment in shipments:
                work.add(shipment)
            index.add_part(part, [s.id for s in shipments])
            return shipments

    @use_case
    def cancel_shipments(
        self, order_id: UUID, reason: str, uow: UnitOfWork | None = None
    ) -> list[Shipment]:
        """The order was cancelled: cancel its shipments that have not left; returns those."""
        with self.app.unit_of_work(uow) as work:
            index = order_index_in(work, order_id)
            if not index.cancel(reason):
                return []
            cancelled = []
            for shipment_id in index.shipment_ids:
                shipment = work.get(UUID(shipment_id), Shipment)
                picking = shipment.status == ShipmentStatus.PICKING
                pick_list_id = shipment.pick_list_id if picking else None
                if shipment.cancel(reason):
                    cancelled.append(shipment)
                if pick_list_id is not None:
                    drop_from_pick_list(work, UUID(pick_list_id), shipment.id)
            return cancelled

    @use_case
    def replace_shipments(
        self, order_id: UUID, revision: int, uow: UnitOfWork | None = None
    ) -> list[Shipment]:
        """The order's lines were edited: its open shipments are cancelled and the next
        confirmation creates those of the new lines. A shipment whose picking started keeps
        its lines, refused on record (published to orders), and the order keeps its shipments.
        Returns the shipments cancelled.

        An order with no shipments yet needs nothing: its confirmation, later on the same
        partition, carries the new lines.
        """
        with self.app.unit_of_work(uow) as work:
            index = work.find(order_shipments_id_for(order_id), OrderShipments)
            if index is None or index.cancelled or revision <= index.revision:
                return []
            shipments = [work.get(UUID(i), Shipment) for i in index.shipment_ids]
            open_ones = [s for s in shipments if s.status == ShipmentStatus.OPEN]
            under_way = [
                s
                for s in shipments
                if s.status not in (ShipmentStatus.OPEN, ShipmentStatus.CANCELLED)
            ]
            if under_way:
                for shipment in under_way:
                    shipment.refuse_edit(revision)
                return []
            for shipment in open_ones:
                shipment.cancel(f"order lines edited (revision {revision})")
            index.reopen(revision, [s.id for s in open_ones])
            return open_ones

    @use_case
    def change_ship_to(
        self, order_id: UUID, ship_to: Address, uow: UnitOfWork | None = None
    ) -> list[Shipment]:
        """The order's ship-to changed: its open shipments take it, one whose picking started
        refuses it on record (published to orders); returns the order's shipments.

        An order with no shipments yet needs nothing: its confirmation, later on the same
        partition, carries the order's address as it is then. No index is registered for it.
        """
        with self.app.unit_of_work(uow) as work:
            index = work.find(order_shipments_id_for(order_id), OrderShipments)
            if index is None:
                return []
            shipments = [work.get(UUID(i), Shipment) for i in index.shipment_ids]
            for shipment in shipments:
                shipment.change_ship_to(ship_to)
            return shipments
