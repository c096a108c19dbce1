"""Return: an RMA, the units that came back against it and the refunds paid for them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from services.returns_service.domain.errors import (
    IdempotencyKeyReusedError,
    ReceiveQuantityError,
)
from services.returns_service.domain.values import (
    ZERO,
    Amount,
    Condition,
    Receipt,
    ReceiptLine,
    ReceivedLine,
    Refund,
    RefundLine,
    ReturnLine,
    ReturnLineSummary,
    Settlement,
    units_per_sku,
)

RETURN_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/returns")
REFUND_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/refunds")


class ReturnStatus(StrEnum):
    """Where a return stands: nothing, some or all of its units came back."""

    REQUESTED = "requested"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"


def return_id_for(idempotency_key: str | None) -> UUID:
    """The return id derived from the client's idempotency key, or a fresh one without a key."""
    if idempotency_key is None:
        return uuid4()
    return uuid5(RETURN_NAMESPACE, f"idempotency-key:{idempotency_key}")


def refund_id_for(return_id: UUID, sequence: int) -> UUID:
    """The refund of a return's nth receipt."""
    return uuid5(REFUND_NAMESPACE, f"{return_id}:{sequence}")


class Return(Aggregate):
    """A return (RMA): shipped units the customer may send back, their receipts and refunds."""

    class Requested(Aggregate.Created):
        """A return was authorised for shipped units."""

        return_id: UUID
        order_id: UUID
        currency: str
        lines: list[ReturnLine]
        idempotency_key: str | None

    class Received(Aggregate.Event):
        """Units came back, each to a location that shipped it."""

        sequence: int
        order_id: UUID
        lines: list[ReceivedLine]
        idempotency_key: str | None
        status: ReturnStatus

    class Refunded(Aggregate.Event):
        """Money went back for a receipt; it carries every field of the public Refunded event."""

        refund_id: UUID
        sequence: int
        order_id: UUID
        amount: Amount
        full_amount: Amount
        capped: bool
        currency: str
        lines: list[RefundLine]
        shipping: Amount | None = None  # the part of amount paying back shipping

    @event(Requested)
    def __init__(
        self,
        return_id: UUID,
        order_id: UUID,
        currency: str,
        lines: list[ReturnLine],
        idempotency_key: str | None,
    ) -> None:
        self.order_id = order_id
        self.currency = currency
        self.lines = lines
        self.idempotency_key = idempotency_key
        self.receipts: list[Receipt] = []
        self.refunds: list[Refund] = []

    @staticmethod
    def create_id(return_id: UUID, **_: object) -> UUID:
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
    def status(self) -> ReturnStatus:
        """requested, partially_received or received."""
        return _status(self.requested, self.received)

    @property
    def refunded_total(self) -> Decimal:
        """Money refunded for this return so far."""
        return sum((Decimal(r["amount"]) for r in self.refunds), ZERO)

    @property
    def next_sequence(self) -> int:
        """The number of the next receipt (1 for the first)."""
        return len(self.receipts) + 1

    def line_summary(self) -> list[ReturnLineSummary]:
        """Per requested line: units requested, received, and received per condition."""
        summary = line_summary(self.lines)
        for receipt in self.receipts:
            summary = add_receipt(summary, receipt["lines"])
        return summary

    def is_same_request(self, order_id: UUID, lines: list[ReturnLine]) -> bool:
        """Whether a retried request asks for what this return was created with."""
        return order_id == self.order_id and _request_key(lines) == _request_key(self.lines)

    def receipt_with_key(self, idempotency_key: str, lines: list[ReceiptLine]) -> Receipt | None:
        """The receipt already recorded under this key, if the same lines came back."""
        for receipt in self.receipts:
            if receipt["idempotency_key"] == idempotency_key:
                if _receipt_key(receipt["lines"]) != _receipt_key(lines):
                    raise IdempotencyKeyReusedError(
                        f"idempotency key {idempotency_key!r} was used for another receipt"
                    )
                return receipt
        return None

    def check_receivable(self, lines: Sequence[ReceiptLine]) -> None:
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

    def receive(self, settlement: Settlement, idempotency_key: str | None) -> None:
        """Record units that came back and the refund settled for them by the shipped order."""
        self.check_receivable(settlement["lines"])
        received = self.received + units_per_sku(settlement["lines"])
        sequence = settlement["sequence"]
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
            shipping=settlement.get("shipping"),
        )

    # eventsourcing passes an event's own timestamp to a parameter of that name; None only
    # while the event is being made, never when it is applied.
    @event(Received)
    def _received(
        self,
        sequence: int,
        order_id: UUID,
        lines: list[ReceivedLine],
        idempotency_key: str | None,
        status: ReturnStatus,
        timestamp: datetime | None = None,
    ) -> None:
        assert timestamp is not None
        receipt = Receipt(
            sequence=sequence, lines=lines, idempotency_key=idempotency_key, received_at=timestamp
        )
        self.receipts = [*self.receipts, receipt]

    @event(Refunded)
    def _refunded(
        self,
        refund_id: UUID,
        sequence: int,
        order_id: UUID,
        amount: Amount,
        full_amount: Amount,
        capped: bool,
        currency: str,
        lines: list[RefundLine],
        shipping: Amount | None = None,
        timestamp: datetime | None = None,
    ) -> None:
        assert timestamp is not None
        refund = Refund(
            refund_id=refund_id,
            return_id=self.id,
            order_id=order_id,
            sequence=sequence,
            amount=amount,
            full_amount=full_amount,
            capped=capped,
            currency=currency,
            lines=lines,
            refunded_at=timestamp,
        )
        self.refunds = [*self.refunds, refund]


def line_summary(lines: list[ReturnLine]) -> list[ReturnLineSummary]:
    """One row per requested line, nothing received yet."""
    return [
        ReturnLineSummary(
            sku=line["sku"],
            reason=line["reason"],
            requested=line["quantity"],
            received=0,
            sellable=0,
            damaged=0,
        )
        for line in lines
    ]


def add_receipt(
    summary: list[ReturnLineSummary], received: Sequence[ReceiptLine]
) -> list[ReturnLineSummary]:
    """The line summary after some received units (counted per condition)."""
    rows = [row.copy() for row in summary]
    for line in received:
        matching = [row for row in rows if row["sku"] == line["sku"]]
        if not matching:
            continue
        open_rows = [row for row in matching if row["received"] < row["requested"]]
        row = (open_rows or matching)[0]
        row["received"] += line["quantity"]
        if line["condition"] == Condition.SELLABLE:
            row["sellable"] += line["quantity"]
        else:
            row["damaged"] += line["quantity"]
    return rows


def _status(requested: Counter[str], received: Counter[str]) -> ReturnStatus:
    if not received:
        return ReturnStatus.REQUESTED
    return ReturnStatus.RECEIVED if received >= requested else ReturnStatus.PARTIALLY_RECEIVED


def _request_key(lines: list[ReturnLine]) -> list[tuple[str, int, str]]:
    return sorted((line["sku"], line["quantity"], line["reason"]) for line in lines)


def _receipt_key(lines: Sequence[ReceiptLine]) -> Counter[tuple[str, str]]:
    key: Counter[tuple[str, str]] = Counter()
    for line in lines:
        key[(line["sku"], line["condition"])] += line["quantity"]
    return key
