"""RefundWithoutReturn: money back with no return (a short pick, a lost parcel, goodwill)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from services.returns_service.domain.values import (
    Amount,
    ItemQuantity,
    RefundLine,
    RefundSettlement,
    units_per_sku,
)

REFUND_WITHOUT_RETURN_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/refunds/no-return")


def refund_without_return_id_for(idempotency_key: str | None) -> UUID:
    """The refund id derived from the client's idempotency key, or a fresh one without a key."""
    if idempotency_key is None:
        return uuid4()
    return uuid5(REFUND_WITHOUT_RETURN_NAMESPACE, f"idempotency-key:{idempotency_key}")


def short_pick_refund_id_for(order_id: UUID) -> UUID:
    """The refund of an order's short-picked units: one per order, however often it ships."""
    return uuid5(REFUND_WITHOUT_RETURN_NAMESPACE, f"short-pick:{order_id}")


def cancelled_units_refund_id_for(order_id: UUID, revision: int) -> UUID:
    """The refund of the units one edit of an order cancelled: one per edit."""
    return uuid5(REFUND_WITHOUT_RETURN_NAMESPACE, f"lines-cancelled:{order_id}:{revision}")


class RefundWithoutReturn(Aggregate):
    """Money that went back for an order without a return, and why."""

    class Issued(Aggregate.Created):
        """The refund was settled against the order; it carries every field of the public
        Refunded event, and what was asked (so a retried request is recognised)."""

        refund_id: UUID
        order_id: UUID
        reason: str
        kind: str
        short: bool
        amount: Amount
        full_amount: Amount
        capped: bool
        currency: str
        lines: list[RefundLine]
        asked_amount: Amount | None
        asked_lines: list[ItemQuantity] | None
        note: str | None
        idempotency_key: str | None

    @event(Issued)
    def __init__(
        self,
        refund_id: UUID,
        order_id: UUID,
        reason: str,
        kind: str,
        short: bool,
        amount: Amount,
        full_amount: Amount,
        capped: bool,
        currency: str,
        lines: list[RefundLine],
        asked_amount: Amount | None,
        asked_lines: list[ItemQuantity] | None,
        note: str | None,
        idempotency_key: str | None,
    ) -> None:
        self.order_id = order_id
        self.reason = reason
        self.kind = kind
        self.amount = amount
        self.full_amount = full_amount
        self.capped = capped
        self.currency = currency
        self.lines = lines
        self.asked_amount = asked_amount
        self.asked_lines = asked_lines
        self.note = note
        self.idempotency_key = idempotency_key

    @classmethod
    def issue(
        cls,
        refund_id: UUID,
        order_id: UUID,
        reason: str,
        settlement: RefundSettlement,
        asked_amount: Decimal | None,
        asked_lines: list[ItemQuantity] | None,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> RefundWithoutReturn:
        """The refund as the shipped order settled it."""
        return cls(
            refund_id=refund_id,
            order_id=order_id,
            reason=reason,
            kind=settlement["kind"].value,
            short=settlement["short"],
            amount=settlement["amount"],
            full_amount=settlement["full_amount"],
            capped=settlement["capped"],
            currency=settlement["currency"],
            lines=settlement["lines"],
            asked_amount=None if asked_amount is None else format(asked_amount, "f"),
            asked_lines=asked_lines or None,
            note=note,
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def create_id(refund_id: UUID, **_: object) -> UUID:
        """The id is chosen outside (derived from the idempotency key, or the order)."""
        return refund_id

    def is_same_request(
        self,
        order_id: UUID,
        reason: str,
        amount: Decimal | None,
        lines: list[ItemQuantity] | None,
    ) -> bool:
        """Whether a retried request asks for what this refund was issued for."""
        asked = None if self.asked_amount is None else Decimal(self.asked_amount)
        return (
            order_id == self.order_id
            and reason == self.reason
            and amount == asked
            and _units(lines) == _units(self.asked_lines)
        )


def _units(lines: list[ItemQuantity] | None) -> Counter[str]:
    return units_per_sku(lines or [])
