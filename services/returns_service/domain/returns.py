"""Return: an RMA, the units that came back against it and the refunds paid for them."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.returns_service.domain.base import (
    PARTIALLY_RECEIVED,
    RECEIVED,
    REQUESTED,
    ZERO,
    IdempotencyKeyReusedError,
    Lines,
    ReceiveQuantityError,
    add_receipt,
    line_summary,
    refund_id_for,
    units_per_sku,
)


class Return(Aggregate):
    """A return (RMA): shipped units the customer may send back, their receipts and refunds."""

    @event("Requested")
    def __init__(
        self,
        return_id: UUID,
        order_id: UUID,
        currency: str,
        lines: Lines,
        idempotency_key: str | None,
    ) -> None:
        self.order_id = order_id
        self.currency = currency
        self.lines = lines
        self.idempotency_key = idempotency_key
        self.receipts: Lines = []
        self.refunds: Lines = []

    @staticmethod
    def create_id(return_id: UUID, **_: Any) -> UUID:
        """The id is chosen outside (derived from the idempotency key)."""
        return return_id

    @property
    def requested(self) -> Counter[str]:
        """Units per SKU the return allows."""
        return units_per_sku(self.lines)

    @property
    def received(self) -> Counter[str]:
        """Units per SKU that came back so far."""
        return units_per_sku([line for r in self.receipts for line in r["lines"]])

    @property
    def status(self) -> str:
        """requested, partially_received or received."""
        return _status(self.requested, self.received)

    @property
    def refunded_total(self) -> Decimal:
        """Money refunded for this return so far."""
        return sum((Decimal(r["amount"]) for r in self.refunds), ZERO)

    def line_summary(self) -> Lines:
        """Per requested line: units requested, received, and received per condition."""
        summary = line_summary(self.lines)
        for receipt in self.receipts:
            summary = add_receipt(summary, receipt["lines"])
        return summary

    def is_same_request(self, order_id: UUID, lines: Lines) -> bool:
        """Whether a retried request asks for what this return was created with."""
        return order_id == self.order_id and _request_key(lines) == _request_key(self.lines)

    def receipt_with_key(self, idempotency_key: str, lines: Lines) -> dict[str, Any] | None:
        """The receipt already recorded under this key, if the same lines came back."""
        for receipt in self.receipts:
            if receipt["idempotency_key"] == idempotency_key:
                if _receipt_key(receipt["lines"]) != _receipt_key(lines):
                    raise IdempotencyKeyReusedError(
                        f"idempotency key {idempotency_key!r} was used for another receipt"
                    )
                return receipt
        return None

    def check_receivable(self, lines: Lines) -> None:
        """Refuse units the return did not request or already received."""
        for sku, quantity in units_per_sku(lines).items():
            receivable = max(0, self.requested[sku] - self.received[sku])
            if quantity > receivable:
                raise ReceiveQuantityError(
                    sku,
                    receivable,
                    f"SKU {sku}: {quantity} received, {receivable} still expected on return"
                    f" {self.id}",
                )

    def receive(self, settlement: dict[str, Any], idempotency_key: str | None) -> None:
        """Record units that came back and the refund settled for them by the shipped order."""
        self.check_receivable(settlement["lines"])
        received = self.received + units_per_sku(settlement["lines"])
        sequence = int(settlement["sequence"])
        self._received(
            sequence=sequence,
            order_id=self.order_id,
            lines=settlement["lines"],
            idempotency_key=idempotency_key,
            status=_status(self.requested, received),
        )
        # The event carries every field of the public Refunded event, so the relay maps it alone.
        self._refunded(
            refund_id=refund_id_for(self.id, sequence),
            sequence=sequence,
            order_id=self.order_id,
            amount=settlement["amount"],
            full_amount=settlement["full_amount"],
            capped=settlement["capped"],
            currency=settlement["currency"],
            lines=settlement["refund_lines"],
        )

    @property
    def next_sequence(self) -> int:
        """The number of the next receipt (1 for the first)."""
        return len(self.receipts) + 1

    # eventsourcing passes an event's own timestamp to a parameter of that name.
    @event("Received")
    def _received(
        self,
        sequence: int,
        order_id: UUID,
        lines: Lines,
        idempotency_key: str | None,
        status: str,
        timestamp: Any = None,
    ) -> None:
        receipt = {
            "sequence": sequence,
            "lines": lines,
            "idempotency_key": idempotency_key,
            "received_at": timestamp,
        }
        self.receipts = [*self.receipts, receipt]

    @event("Refunded")
    def _refunded(
        self,
        refund_id: UUID,
        sequence: int,
        order_id: UUID,
        amount: str,
        full_amount: str,
        capped: bool,
        currency: str,
        lines: Lines,
        timestamp: Any = None,
    ) -> None:
        refund = {
            "refund_id": refund_id,
            "return_id": self.id,
            "order_id": order_id,
            "sequence": sequence,
            "amount": amount,
            "full_amount": full_amount,
            "capped": capped,
            "currency": currency,
            "lines": lines,
            "refunded_at": timestamp,
        }
        self.refunds = [*self.refunds, refund]


def _status(requested: Counter[str], received: Counter[str]) -> str:
    if not received:
        return REQUESTED
    return RECEIVED if received >= requested else PARTIALLY_RECEIVED


def _request_key(lines: Lines) -> list[tuple[str, int, str]]:
    return sorted((line["sku"], int(line["quantity"]), line["reason"]) for line in lines)


def _receipt_key(lines: Lines) -> Counter[tuple[str, str]]:
    key: Counter[tuple[str, str]] = Counter()
    for line in lines:
        key[(line["sku"], line["condition"])] += int(line["quantity"])
    return key
