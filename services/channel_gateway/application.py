"""The ChannelOrders application: one method per use case, each get -> call -> save."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.channel_gateway.domain import ChannelOrder, ChannelOrderNotFoundError, order_id_for
from shared.runtime.application import ServiceApplication, UnitOfWork


class Intake(NamedTuple):
    """What became of a canonical order handed to the gateway."""

    order_id: UUID
    status: str
    created: bool


class ChannelOrders(ServiceApplication):
    """Orders from every sales channel, and the OMS's news to send back to each channel."""

    def receive_order(
        self,
        channel: str,
        external_id: str,
        customer: dict[str, Any],
        shipping_address: dict[str, Any],
        lines: list[dict[str, Any]],
        currency: str,
        uow: UnitOfWork | None = None,
    ) -> Intake:
        """Take in a canonical order (every channel adapter ends here); the same order again
        changes nothing and says so."""
        order_id = order_id_for(channel, external_id)
        with self.unit_of_work(uow) as work:
            existing = work.find(order_id, ChannelOrder)
            if existing is not None:
                return Intake(existing.id, existing.status, created=False)
            order = ChannelOrder.receive(
                channel=channel,
                external_id=external_id,
                customer=customer,
                shipping_address=shipping_address,
                lines=lines,
                currency=currency,
            )
            work.add(order)
            return Intake(order.id, order.status, created=True)

    def record_shipment(
        self,
        order_id: UUID,
        shipment: dict[str, Any],
        uow: UnitOfWork | None = None,
    ) -> bool:
        """A shipment of this order left; False if already known or the order is not ours."""
        with self.unit_of_work(uow) as work:
            order = work.find(order_id, ChannelOrder)
            return order is not None and order.record_shipment(**shipment)

    def record_cancellation(
        self, order_id: UUID, reason: str, cancelled_at: str, uow: UnitOfWork | None = None
    ) -> bool:
        """The OMS cancelled this order; False if already known or the order is not ours."""
        with self.unit_of_work(uow) as work:
            order = work.find(order_id, ChannelOrder)
            return order is not None and order.record_cancellation(reason, cancelled_at)

    def record_refund(
        self,
        order_id: UUID,
        refund_id: str,
        amount: Decimal,
        currency: str,
        refunded_at: str,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """Money went back for this order; False if already known or the order is not ours."""
        with self.unit_of_work(uow) as work:
            order = work.find(order_id, ChannelOrder)
            return order is not None and order.record_refund(
                refund_id, amount, currency, refunded_at
            )

    def get_order(self, order_id: UUID) -> ChannelOrder:
        """The channel order as its events say it is now."""
        try:
            order: Any = self.repository.get(order_id)
        except AggregateNotFoundError:
            raise ChannelOrderNotFoundError(f"no channel order {order_id}") from None
        assert isinstance(order, ChannelOrder)
        return order
