"""Returns projection: Return and RefundWithoutReturn events -> return_view and refund_view
rows, one handler each.

ShippedOrder events are not this view's business: the projection covers the other two only.
"""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from services.returns_service.domain import (
    RefundReason,
    RefundWithoutReturn,
    Return,
    ReturnStatus,
    add_receipt,
    line_summary,
)
from services.returns_service.views import ReturnViews
from shared.runtime.registry import Projection


def _requested(curs: Cursor[Any], event: Return.Requested) -> None:
    ReturnViews.insert_return(
        curs,
        {
            "return_id": event.originator_id,
            "order_id": event.order_id,
            "status": ReturnStatus.REQUESTED,
            "currency": event.currency,
            "lines": line_summary(event.lines),
            "at": event.timestamp,
        },
    )


def _received(curs: Cursor[Any], event: Return.Received) -> None:
    summary = ReturnViews.lines_of(curs, event.originator_id)
    if summary is None:
        return
    receipt = {"sequence": event.sequence, "lines": event.lines, "received_at": event.timestamp}
    ReturnViews.add_receipt(
        curs,
        event.originator_id,
        event.timestamp,
        receipt,
        add_receipt(summary, event.lines),
        event.status,
    )


def _refunded(curs: Cursor[Any], event: Return.Refunded) -> None:
    ReturnViews.insert_refund(
        curs,
        {
            "refund_id": event.refund_id,
            "return_id": event.originator_id,
            "order_id": event.order_id,
            "sequence": event.sequence,
            "amount": event.amount,
            "full_amount": event.full_amount,
            "capped": event.capped,
            "currency": event.currency,
            "lines": event.lines,
            "refunded_at": event.timestamp,
            "reason": RefundReason.RETURN.value,
        },
    )


def _issued(curs: Cursor[Any], event: RefundWithoutReturn.Issued) -> None:
    ReturnViews.insert_refund(
        curs,
        {
            "refund_id": event.originator_id,
            "return_id": None,
            "order_id": event.order_id,
            "sequence": None,
            "amount": event.amount,
            "full_amount": event.full_amount,
            "capped": event.capped,
            "currency": event.currency,
            "lines": event.lines,
            "refunded_at": event.timestamp,
            "reason": event.reason,
            "refund_kind": event.kind,
            "note": event.note,
        },
    )


PROJECTION = Projection(
    name="return_summary",
    aggregates=(Return, RefundWithoutReturn),
    handlers={
        Return.Requested: _requested,
        Return.Received: _received,
        Return.Refunded: _refunded,
        RefundWithoutReturn.Issued: _issued,
    },
)
"""The return_summary view: returns with their receipts, and refunds (with or without one)."""
