"""The Returns application: one method per use case, each get -> call -> save.

Commands are `@use_case`s: called alone (an HTTP request) they are retried whole when a
concurrent writer wins; called in a consumer's unit of work they run once
(docs/architecture.md, Use cases and conflicts).
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.returns_service.domain import (
    EarlyChannelRefunds,
    IdempotencyKeyReusedError,
    ItemQuantity,
    OrderLine,
    OrderNotRefundableError,
    OrderNotReturnableError,
    ReceiptLine,
    RefundKind,
    RefundLine,
    RefundReason,
    RefundSettlement,
    RefundWithoutReturn,
    Return,
    ReturnLine,
    ReturnNotFoundError,
    Shipment,
    ShippedOrder,
    ShippingRefundRule,
    ShortLine,
    ShortPickPolicy,
    cancelled_units_refund_id_for,
    early_channel_refunds_id_for,
    refund_without_return_id_for,
    return_id_for,
    shipped_order_id_for,
    short_pick_refund_id_for,
)
from shared.runtime.application import ServiceApplication, UnitOfWork, use_case


class Returns(ServiceApplication):
    """Returns of shipped units, refunds without a return, and the money paid back for both."""

    # What becomes of short-picked units (bootstrap sets it from OMS_RETURNS_SHORT_PICK_POLICY).
    short_pick_policy: ShortPickPolicy = ShortPickPolicy.REFUND
    # When shipping is paid back (bootstrap sets it from OMS_RETURNS_SHIPPING_REFUND).
    shipping_refund_rule: ShippingRefundRule = ShippingRefundRule.FULL_RETURN

    @use_case
    def record_shipped_order(
        self,
        order_id: UUID,
        currency: str,
        lines: list[OrderLine],
        shipments: list[Shipment],
        short_lines: list[ShortLine] | None = None,
        uow: UnitOfWork | None = None,
        shipping_paid: str | None = None,
    ) -> bool:
        """Remember what an order shipped (and what it could not); an order already recorded is
        left as it is. Units that did not ship are refunded at once by the `refund` policy (once:
        the refund's id derives from the order), or kept refundable for ops by `hold`."""
        with self.unit_of_work(uow) as work:
            if work.find(shipped_order_id_for(order_id), ShippedOrder) is not None:
                return False
            order = ShippedOrder(
                order_id=order_id,
                currency=currency,
                lines=lines,
                shipments=shipments,
                short_lines=short_lines or None,
                shipping_paid=shipping_paid,
            )
            work.add(order)
            early = work.find(early_channel_refunds_id_for(order_id), EarlyChannelRefunds)
            for refund_id, refund_lines, amount in early.refunds if early is not None else []:
                order.count_channel_refund(refund_id, refund_lines, Decimal(amount))
            if self.short_pick_policy == ShortPickPolicy.REFUND:
                self._refund_short_pick(work, order)
            return True

    @staticmethod
    def _refund_short_pick(work: UnitOfWork, order: ShippedOrder) -> None:
        refund_id = short_pick_refund_id_for(order.order_id)
        if work.find(refund_id, RefundWithoutReturn) is not None:
            return
        settlement = order.settle_short_pick(refund_id)
        if settlement is None:
            return
        work.add(
            RefundWithoutReturn.issue(
                refund_id,
                order.order_id,
                RefundReason.SHORT_PICK,
                settlement,
                asked_amount=None,
                asked_lines=[
                    ItemQuantity(sku=line["sku"], quantity=line["quantity"])
                    for line in settlement["lines"]
                ],
                note=f"short pick refunded by policy ({ShortPickPolicy.REFUND})",
            )
        )

    @use_case
    def refund_cancelled_units(
        self,
        order_id: UUID,
        revision: int,
        currency: str,
        lines: list[RefundLine],
        uow: UnitOfWork | None = None,
    ) -> bool:
        """Pay back what was paid for units an edit of a paid order cancelled before they
        shipped: exactly that (the order service split each line's `paid` without loss), once
        per edit. Whether a refund was issued (nothing was paid for them: none)."""
        refund_id = cancelled_units_refund_id_for(order_id, revision)
        amount = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
        with self.unit_of_work(uow) as work:
            if amount <= 0 or work.find(refund_id, RefundWithoutReturn) is not None:
                return False
            settlement = RefundSettlement(
                kind=RefundKind.UNITS,
                short=True,  # units that never shipped: nothing comes back to restock
                lines=lines,
                amount=format(amount, "f"),
                full_amount=format(amount, "f"),
                capped=False,
                currency=currency,
            )
            asked = [ItemQuantity(sku=line["sku"], quantity=line["quantity"]) for line in lines]
            work.add(
                RefundWithoutReturn.issue(
                    refund_id,
                    order_id,
                    RefundReason.LINE_CANCELLED,
                    settlement,
                    asked_amount=None,
                    asked_lines=asked,
                    note=f"units cancelled by an edit of the order (revision {revision})",
                )
            )
            return True

    @use_case
    def refund_without_return(
        self,
        order_id: UUID,
        reason: RefundReason,
        lines: list[ItemQuantity] | None = None,
        amount: Decimal | None = None,
        note: str | None = None,
        idempotency_key: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> RefundWithoutReturn:
        """Money back without a return (a short pick, a lost parcel, goodwill), never more than
        is left of what was paid for the order; a retried request gets the same refund back."""
        refund_id = refund_without_return_id_for(idempotency_key)
        with self.unit_of_work(uow) as work:
            existing = work.find(refund_id, RefundWithoutReturn)
            if existing is not None:
                if not existing.is_same_request(order_id, reason, amount, lines):
                    raise IdempotencyKeyReusedError(
                        f"idempotency key {idempotency_key!r} was used for another refund"
                    )
                return existing
            order = work.find(shipped_order_id_for(order_id), ShippedOrder)
            if order is None:
                raise _not_refundable(order_id)
            settlement = order.settle_refund(refund_id, reason, lines, amount)
            refund = RefundWithoutReturn.issue(
                refund_id,
                order_id,
                reason,
                settlement,
                asked_amount=amount,
                asked_lines=lines,
                note=note,
                idempotency_key=idempotency_key,
            )
            work.add(refund)
            return refund

    @use_case
    def count_channel_refund(
        self,
        order_id: UUID,
        refund_id: str,
        lines: list[RefundLine],
        amount: Decimal,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """A refund made at the channel (not by us): never refunded again, its units never
        returned for money again; kept until the order ships when it has not yet. Whether it
        was news."""
        with self.unit_of_work(uow) as work:
            order = work.find(shipped_order_id_for(order_id), ShippedOrder)
            if order is not None:
                return order.count_channel_refund(refund_id, lines, amount)
            early = work.find(early_channel_refunds_id_for(order_id), EarlyChannelRefunds)
            if early is None:
                early = EarlyChannelRefunds(order_id=order_id)
                work.add(early)
            return early.keep(refund_id, lines, format(amount, "f"))

    @use_case
    def request_return(
        self,
        order_id: UUID,
        lines: list[ReturnLine],
        idempotency_key: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> Return:
        """Authorise a return of shipped units; a retried request gets the same return back."""
        return_id = return_id_for(idempotency_key)
        with self.unit_of_work(uow) as work:
            existing = work.find(return_id, Return)
            if existing is not None:
                if not existing.is_same_request(order_id, lines):
                    raise IdempotencyKeyReusedError(
                        f"idempotency key {idempotency_key!r} was used for another return"
                    )
                return existing
            order = work.find(shipped_order_id_for(order_id), ShippedOrder)
            if order is None:
                raise _not_returnable(order_id)
            order.authorise_return(return_id, lines)
            rma = Return(
                return_id=return_id,
                order_id=order_id,
                currency=order.currency,
                lines=lines,
                idempotency_key=idempotency_key,
            )
            work.add(rma)
            return rma

    @use_case
    def receive_return(
        self,
        return_id: UUID,
        lines: list[ReceiptLine],
        idempotency_key: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> Return:
        """Units came back: record the receipt and its refund together."""
        with self.unit_of_work(uow) as work:
            rma = self._get(work, return_id)
            if idempotency_key is not None and rma.receipt_with_key(idempotency_key, lines):
                return rma
            rma.check_receivable(lines)
            order = work.get(shipped_order_id_for(rma.order_id), ShippedOrder)
            refund_shipping = self.shipping_refund_rule == ShippingRefundRule.FULL_RETURN
            settlement = order.settle_receipt(rma.id, rma.next_sequence, lines, refund_shipping)
            rma.receive(settlement, idempotency_key)
            return rma

    def get_return(self, return_id: UUID) -> Return:
        """The return as its events say it is now."""
        try:
            rma: object = self.repository.get(return_id)
        except AggregateNotFoundError:
            raise ReturnNotFoundError(f"no return {return_id}") from None
        if not isinstance(rma, Return):
            raise ReturnNotFoundError(f"no return {return_id}")
        return rma

    def get_shipped_order(self, order_id: UUID) -> ShippedOrder:
        """What the order shipped and what is already on returns."""
        try:
            order: object = self.repository.get(shipped_order_id_for(order_id))
        except AggregateNotFoundError:
            raise _not_returnable(order_id) from None
        assert isinstance(order, ShippedOrder)
        return order

    def get_refundable(self, order_id: UUID) -> ShippedOrder:
        """What the order shipped, what was paid and refunded, and what is left to refund."""
        try:
            return self.get_shipped_order(order_id)
        except OrderNotReturnableError:
            raise _not_refundable(order_id) from None

    @staticmethod
    def _get(work: UnitOfWork, return_id: UUID) -> Return:
        rma = work.find(return_id, Return)
        if rma is None:
            raise ReturnNotFoundError(f"no return {return_id}")
        return rma


def _not_returnable(order_id: UUID) -> OrderNotReturnableError:
    return OrderNotReturnableError(f"order {order_id} is unknown or has not shipped in full yet")


def _not_refundable(order_id: UUID) -> OrderNotRefundableError:
    return OrderNotRefundableError(
        f"order {order_id} is unknown here or has not shipped yet: refunds without a return are"
        " for shipped orders (a paid order cancelled before shipping is refunded by its cancel)"
    )
