"""The Orders application: one method per use case, each get -> call -> save."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.order_service.domain import (
    Address,
    Allocation,
    CancelRequestPolicy,
    ChannelCut,
    Customer,
    ItemQuantity,
    LineCut,
    Order,
    OrderFacts,
    OrderLine,
    OrderNotFoundError,
    PaymentPolicies,
    PickedLine,
    RefundedUnits,
    Shipment,
    Shortage,
    ShortPickPolicy,
)
from shared.payments import PaymentState
from shared.runtime.application import ServiceApplication, UnitOfWork, use_case


class Orders(ServiceApplication):
    """Orders from every channel, from placement to refund."""

    # Bootstrap sets the configured policies; these defaults serve tests and tools.
    payment_policies: PaymentPolicies = PaymentPolicies()
    short_pick_policy: ShortPickPolicy = ShortPickPolicy.SHIP_SHORT
    cancel_request_policy: CancelRequestPolicy = CancelRequestPolicy.AUTO
    cancel_request_policies: dict[str, CancelRequestPolicy] = {}  # per channel id

    @use_case
    def place_order(
        self,
        order_id: UUID,
        channel: str,
        external_id: str,
        customer: Customer,
        shipping_address: Address,
        lines: list[OrderLine],
        currency: str,
        payment_state: PaymentState | None = None,
        received_at: datetime | None = None,
        facts: OrderFacts | None = None,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """Accept an order; an order already placed under this id is left as it is.

        An unpaid order gets its deadline from the channel's policy, counted from when the
        channel's order was received (so a replay of the log sets the same deadline). `facts`
        are the order's own (its number at the channel, the customer's note, its totals...).
        """
        with self.unit_of_work(uow) as work:
            if work.find(order_id, Order) is not None:
                return False
            due = None
            if received_at is not None:
                policy = self.payment_policies.of(channel)
                due = Order.payment_deadline(payment_state, received_at, policy)
            work.add(
                Order(
                    order_id=order_id,
                    channel=channel,
                    external_id=external_id,
                    customer=customer,
                    shipping_address=shipping_address,
                    lines=lines,
                    currency=currency,
                    payment_state=None if payment_state is None else payment_state.value,
                    payment_due_at=due,
                    **(facts or {}),
                )
            )
            return True

    @use_case
    def confirm_order(
        self,
        order_id: UUID,
        allocations: list[Allocation],
        uow: UnitOfWork | None = None,
        revision: int = 0,
        routing: dict[str, Any] | None = None,
        short: dict[str, int] | None = None,
        waiting: dict[str, dict[str, int]] | None = None,
    ) -> None:
        """Stock is reserved (`short`: units inventory gave up, the order ships without them;
        `waiting`: units inventory holds later, per request, for a follow-up shipment):
        to the warehouse, or held until the payment allows it; how inventory routed it goes on
        the timeline."""
        with self.unit_of_work(uow) as work:
            order = self._get(work, order_id)
            policy = self.payment_policies.of(order.channel)
            order.confirm(
                allocations,
                policy,
                now=utc_now(),
                revision=revision,
                routing=routing,
                short=short,
                waiting=waiting,
            )

    @use_case
    def record_payment(
        self,
        order_id: UUID,
        payment_state: PaymentState,
        *,
        amount: Decimal | None = None,
        reference: str | None = None,
        source: str = "channel",
        uow: UnitOfWork | None = None,
    ) -> Order:
        """The payment moved on; an order held for it goes to the warehouse when it may."""
        with self.unit_of_work(uow) as work:
            order = self._get(work, order_id)
            order.record_payment(
                payment_state,
                self.payment_policies.of(order.channel),
                amount=amount,
                reference=reference,
                source=source,
                now=utc_now(),
            )
            return order

    @use_case
    def cancel_from_channel(
        self,
        order_id: UUID,
        reason: str,
        reference: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """The channel cancelled the order: cancelled here too unless it is under way."""
        with self.unit_of_work(uow) as work:
            return self._get(work, order_id).cancel_from_channel(reason, reference)

    @use_case
    def request_cancel(
        self, order_id: UUID, reason: str, reference: str, uow: UnitOfWork | None = None
    ) -> bool:
        """The buyer asked the channel to cancel: answered by the channel's policy, or held for
        ops; whether the order was cancelled."""
        with self.unit_of_work(uow) as work:
            order = self._get(work, order_id)
            policy = self.cancel_request_policies.get(order.channel, self.cancel_request_policy)
            return order.request_cancel(reason, reference, policy)

    @use_case
    def answer_cancel_request(
        self, order_id: UUID, accept: bool, by: str, why: str | None = None
    ) -> Order:
        """Ops answer a buyer's cancellation request held for them; the order as it now is."""
        with self.unit_of_work() as work:
            order = self._get(work, order_id)
            order.answer_cancel_request(accept, by, why)
            return order

    @use_case
    def record_refund_due(
        self,
        order_id: UUID,
        reason: str,
        payment_state: str,
        amount: Decimal | None = None,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """A paid cancelled order no channel refunds: ops see it on its timeline (once)."""
        with self.unit_of_work(uow) as work:
            return self._get(work, order_id).record_refund_due(reason, payment_state, amount)

    @use_case
    def cancel_if_unpaid(
        self, order_id: UUID, now: datetime, uow: UnitOfWork | None = None
    ) -> bool:
        """Cancel an order unpaid past its deadline (its stock is released); whether it was."""
        with self.unit_of_work(uow) as work:
            order = self._get(work, order_id)
            if not order.overdue_unpaid(now):
                return False
            return order.cancel(f"unpaid ({order.payment_state}) past its deadline")

    @use_case
    def backorder_order(
        self,
        order_id: UUID,
        shortages: list[Shortage],
        uow: UnitOfWork | None = None,
        revision: int = 0,
    ) -> None:
        """Stock is short; the order waits."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).backorder(shortages, revision)

    @use_case
    def record_promise(
        self,
        order_id: UUID,
        promise_date: datetime | None,
        uow: UnitOfWork | None = None,
        revision: int = 0,
    ) -> None:
        """Inventory dated a backordered order's wait (or no longer knows when)."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).promise(promise_date, revision)

    @use_case
    def cancel_order(self, order_id: UUID, reason: str, uow: UnitOfWork | None = None) -> Order:
        """Cancel an order that has not shipped; returns the order as it now is."""
        with self.unit_of_work(uow) as work:
            order = self._get(work, order_id)
            order.cancel(reason)
            return order

    @use_case
    def record_shipment(
        self, order_id: UUID, shipment: Shipment, uow: UnitOfWork | None = None
    ) -> None:
        """A shipment of this order left its location."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_shipment(shipment)

    @use_case
    def record_short_pick(
        self,
        order_id: UUID,
        shipment_id: str,
        pick_list_id: str,
        location_id: str,
        lines: list[PickedLine],
        uow: UnitOfWork | None = None,
    ) -> None:
        """A picker found fewer units than a shipment of this order needs."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_short_pick(
                shipment_id, pick_list_id, location_id, lines, self.short_pick_policy
            )

    @use_case
    def record_sourced(
        self,
        order_id: UUID,
        request_id: str,
        allocations: list[Allocation],
        uow: UnitOfWork | None = None,
        routing: dict[str, Any] | None = None,
    ) -> None:
        """Units asked for again are reserved: a follow-up shipment for them (how inventory
        routed them goes on the timeline)."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_sourced(request_id, allocations, routing)

    @use_case
    def record_sourcing_failed(
        self,
        order_id: UUID,
        request_id: str,
        shortages: list[Shortage],
        uow: UnitOfWork | None = None,
    ) -> None:
        """Units asked for again are available nowhere: the order ships without them."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_sourcing_failed(request_id, shortages)

    @use_case
    def record_return(
        self,
        order_id: UUID,
        return_id: str,
        lines: list[ItemQuantity],
        uow: UnitOfWork | None = None,
    ) -> None:
        """Returned units arrived."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_return(return_id, lines)

    @use_case
    def record_refund(
        self, order_id: UUID, refund_id: str, amount: Decimal, uow: UnitOfWork | None = None
    ) -> None:
        """Money went back to the customer."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_refund(refund_id, amount)

    @use_case
    def record_channel_refund(
        self,
        order_id: UUID,
        refund_id: str,
        amount: Decimal,
        lines: list[RefundedUnits] | None = None,
        note: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """Money went back at the channel itself: on the order's timeline, over-refunds flagged."""
        with self.unit_of_work(uow) as work:
            return self._get(work, order_id).record_channel_refund(refund_id, amount, lines, note)

    @use_case
    def change_ship_to(
        self,
        order_id: UUID,
        address: Address,
        reason: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> Order:
        """Ship the order to another address before it is picked; returns the order as it is."""
        with self.unit_of_work(uow) as work:
            order = self._get(work, order_id)
            order.change_ship_to(address, reason)
            return order

    @use_case
    def edit_lines(
        self,
        order_id: UUID,
        cancel: list[LineCut],
        add: list[OrderLine],
        reason: str,
        source: str = "ops",
        uow: UnitOfWork | None = None,
    ) -> Order:
        """Cancel units and add lines before any of the order is picked; returns the order."""
        with self.unit_of_work(uow) as work:
            order = self._get(work, order_id)
            order.edit_lines(cancel, add, reason, source)
            return order

    @use_case
    def record_edit_refused(
        self,
        order_id: UUID,
        shipment_id: str,
        revision: int,
        reason: str,
        uow: UnitOfWork | None = None,
    ) -> None:
        """A shipment kept its lines: its picking started before the edit reached it."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_edit_refused(shipment_id, revision, reason)

    @use_case
    def cut_lines_from_channel(
        self,
        order_id: UUID,
        cuts: list[ChannelCut],
        reference: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """An edit at the channel took units off lines: the order follows while it may, else
        ops see why not on its timeline."""
        with self.unit_of_work(uow) as work:
            return self._get(work, order_id).cut_lines_from_channel(cuts, reference)

    @use_case
    def change_ship_to_from_channel(
        self,
        order_id: UUID,
        address: Address,
        reference: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """The channel's order ships elsewhere now: changed here while it may, else ops see why
        not on the order's timeline."""
        with self.unit_of_work(uow) as work:
            return self._get(work, order_id).change_ship_to_from_channel(address, reference)

    @use_case
    def record_picking_started(
        self,
        order_id: UUID,
        shipment_id: str,
        pick_list_id: str,
        location_id: str,
        uow: UnitOfWork | None = None,
    ) -> None:
        """A shipment of this order went on a pick list: the ship-to is fixed."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_picking_started(shipment_id, pick_list_id, location_id)

    @use_case
    def record_picking_released(
        self, order_id: UUID, shipment_id: str, uow: UnitOfWork | None = None
    ) -> None:
        """A shipment's pick list was cancelled: it is open again."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_picking_released(shipment_id)

    @use_case
    def record_ship_to_refused(
        self, order_id: UUID, shipment_id: str, reason: str, uow: UnitOfWork | None = None
    ) -> None:
        """A shipment kept the old ship-to: its picking started before the change reached it."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_ship_to_refused(shipment_id, reason)

    @use_case
    def record_tracking(
        self, order_id: UUID, tracking: dict[str, Any], uow: UnitOfWork | None = None
    ) -> None:
        """A carrier's tracking event of one of the order's shipments (on its timeline)."""
        with self.unit_of_work(uow) as work:
            self._get(work, order_id).record_tracking(**tracking)

    def get_order(self, order_id: UUID) -> Order:
        """The order as its events say it is now."""
        try:
            order: Order = self.repository.get(order_id)
        except AggregateNotFoundError:
            raise OrderNotFoundError(f"no order {order_id}") from None
        assert isinstance(order, Order)
        return order

    @staticmethod
    def _get(work: UnitOfWork, order_id: UUID) -> Order:
        order = work.find(order_id, Order)
        if order is None:
            raise OrderNotFoundError(f"no order {order_id}")
        return order


def utc_now() -> datetime:
    """Now, in UTC: when a deadline that starts now starts."""
    return datetime.now(UTC)
