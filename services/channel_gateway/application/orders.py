"""Use cases of channel orders: look one up, release a held one, record what the OMS reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.channel_gateway.application.intake import IntakeResult, Translation
from services.channel_gateway.domain import (
    CancelAnswer,
    ChannelOrder,
    ChannelOrderNotFoundError,
    OrderLine,
    OrderStillHeldError,
    RawPayload,
    RefundLine,
    Shipment,
    Tracking,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders


class Retranslator(Protocol):
    """Translates what a channel sent again, with the channel as it is connected now."""

    def retranslate(self, channel: str, external_id: str, payload: RawPayload) -> Translation:
        """The translation of a stored payload (a hold with reasons when it still falls short)."""
        ...


class Orders(UseCases["ChannelOrders"]):
    """Channel orders after intake: holds released, shipments, cancellations and refunds."""

    app: ChannelOrders  # the application composing this group (for the type checker)

    def get(self, order_id: UUID) -> ChannelOrder:
        """The channel order as its events say it is now."""
        try:
            order: object = self.app.repository.get(order_id)
        except AggregateNotFoundError:
            raise ChannelOrderNotFoundError(f"no channel order {order_id}") from None
        if not isinstance(order, ChannelOrder):
            raise ChannelOrderNotFoundError(f"no channel order {order_id}")
        return order

    @use_case
    def release(self, order_id: UUID, channels: Retranslator) -> IntakeResult:
        """Translate a held order again with its channel as connected now; place it if whole.

        OrderNotHeldError when it is not held; OrderStillHeldError with the reasons left when
        it still cannot be placed (nothing is recorded then).
        """
        with self.app.unit_of_work() as uow:
            held = uow.find(order_id, ChannelOrder)
            if held is None:
                raise ChannelOrderNotFoundError(f"no channel order {order_id}")
            held.ensure_held()
            translation = channels.retranslate(held.channel, held.external_id, held.payload or {})
            if translation.order is None:
                raise OrderStillHeldError(translation.reasons)
            held.release(**translation.order)
            return IntakeResult(held.id, held.status, created=False)

    @use_case
    def record_shipment(
        self, order_id: UUID, shipment: Shipment, uow: UnitOfWork | None = None
    ) -> ChannelOrder | None:
        """A shipment of this order left; the order when it is news, else None."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id, ChannelOrder)
            return order if order is not None and order.record_shipment(**shipment) else None

    @use_case
    def record_cancellation(
        self,
        order_id: UUID,
        reason: str,
        cancelled_at: str,
        payment_state: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> ChannelOrder | None:
        """The OMS cancelled this order (in this payment state, when told); the order when it is
        news, else None."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id, ChannelOrder)
            news = order is not None and order.record_cancellation(
                reason, cancelled_at, payment_state
            )
            return order if news else None

    @use_case
    def record_tracking(
        self, order_id: UUID, tracking: Tracking, uow: UnitOfWork | None = None
    ) -> ChannelOrder | None:
        """The carrier's news of one of the order's parcels; the order when it is news."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id, ChannelOrder)
            return order if order is not None and order.record_tracking(tracking) else None

    @use_case
    def record_refund_due(self, order_id: UUID, due_at: str, uow: UnitOfWork | None = None) -> bool:
        """A paid order the OMS cancelled and no channel API refunds: the merchant must (the
        order's timeline shows it); whether that was news."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id, ChannelOrder)
            return order is not None and order.record_refund_due(due_at)

    @use_case
    def record_refund(
        self,
        order_id: UUID,
        refund_id: str,
        amount: Decimal,
        currency: str,
        refunded_at: str,
        lines: list[RefundLine] | None = None,
        reason: str | None = None,
        refund_kind: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> ChannelOrder | None:
        """Money went back for this order; the order when it is news, else None."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id, ChannelOrder)
            news = order is not None and order.record_refund(
                refund_id, amount, currency, refunded_at, lines, reason, refund_kind
            )
            return order if news else None

    @use_case
    def record_lines_changed(
        self,
        order_id: UUID,
        revision: int,
        lines: list[OrderLine],
        cancelled: Sequence[Mapping[str, Any]],
        added: list[OrderLine],
        reason: str,
        source: str,
        changed_at: str,
        told: str,
        uow: UnitOfWork | None = None,
    ) -> ChannelOrder | None:
        """The OMS edited this order's lines (`told`: whether and how the channel hears of it);
        the order when the revision is news, else None."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id, ChannelOrder)
            news = order is not None and order.record_lines_changed(
                revision, lines, cancelled, added, reason, source, changed_at, told
            )
            return order if news else None

    @use_case
    def record_cancel_answer(
        self, order_id: UUID, answer: CancelAnswer, uow: UnitOfWork | None = None
    ) -> ChannelOrder | None:
        """The OMS answered the buyer's cancellation request; the order when it is news."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id, ChannelOrder)
            news = order is not None and order.answer_cancel_request(**answer)
            return order if news else None
