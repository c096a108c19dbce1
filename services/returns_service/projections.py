"""Returns projection: Return events -> return_view and refund_view rows."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from services.returns_service import domain
from services.returns_service.domain import Return
from services.returns_service.views import ReturnViews

PROJECTION = "return_summary"


def project_return(curs: Cursor[Any], event: Any) -> None:
    """Apply one stored Return event to the read model (ShippedOrder events are internal)."""
    if isinstance(event, Return.Requested):  # type: ignore[attr-defined]
        ReturnViews.insert_return(curs, _requested_row(event))
    elif isinstance(event, Return.Received):  # type: ignore[attr-defined]
        _project_receipt(curs, event)
    elif isinstance(event, Return.Refunded):  # type: ignore[attr-defined]
        ReturnViews.insert_refund(curs, _refund_row(event))


def _requested_row(event: Any) -> dict[str, Any]:
    return {
        "return_id": event.originator_id,
        "order_id": event.order_id,
        "status": domain.REQUESTED,
        "currency": event.currency,
        "lines": domain.line_summary(event.lines),
        "at": event.timestamp,
    }


def _project_receipt(curs: Cursor[Any], event: Any) -> None:
    summary = ReturnViews.lines_of(curs, event.originator_id)
    if summary is None:
        return
    receipt = {"sequence": event.sequence, "lines": event.lines, "received_at": event.timestamp}
    ReturnViews.add_receipt(
        curs,
        event.originator_id,
        event.timestamp,
        receipt,
        domain.add_receipt(summary, event.lines),
        event.status,
    )


def _refund_row(event: Any) -> dict[str, Any]:
    return {
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
    }
