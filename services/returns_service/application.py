"""The Returns application: one method per use case, each get -> call -> save.

Commands are `@use_case`s: called alone (an HTTP request) they are retried whole when a
concurrent writer wins; called in a consumer's unit of work they run once
(docs/architecture.md, Use cases and conflicts).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.returns_service.domain import (
    IdempotencyKeyReusedError,
    OrderLine,
    OrderNotReturnableError,
    ReceiptLine,
    Return,
    ReturnLine,
    ReturnNotFoundError,
    Shipment,
    ShippedOrder,
    return_id_for,
    shipped_order_id_for,
)
from shared.runtime.application import ServiceApplication, UnitOfWork, use_case


class Returns(ServiceApplication):
    """Returns of shipped units and the refunds paid for them."""

    @use_case
    def record_shipped_order(
        self,
        order_id: UUID,
        currency: str,
        lines: list[OrderLine],
        shipments: list[Shipment],
        uow: UnitOfWork | None = None,
    ) -> bool:
        """Remember what an order shipped; an order already recorded is left as it is."""
        with self.unit_of_work(uow) as work:
            if work.find(shipped_order_id_for(order_id), ShippedOrder) is not None:
                return False
            work.add(
                ShippedOrder(order_id=order_id, currency=currency, lines=lines, shipments=shipments)
            )
            return True

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
            settlement = order.settle_receipt(rma.id, rma.next_sequence, lines)
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

    @staticmethod
    def _get(work: UnitOfWork, return_id: UUID) -> Return:
        rma = work.find(return_id, Return)
        if rma is None:
            raise ReturnNotFoundError(f"no return {return_id}")
        return rma


def _not_returnable(order_id: UUID) -> OrderNotReturnableError:
    return OrderNotReturnableError(f"order {order_id} is unknown or has not shipped in full yet")
