"""Projection of gateway events into the read models (orders, connections, deliveries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Cursor

from services.channel_gateway import domain
from services.channel_gateway.domain import ChannelConnection, ChannelOrder, Delivery
from services.channel_gateway.views import ChannelOrderViews

PROJECTION = "channel_order_summary"


def project_channel_order(curs: Cursor[Any], event: Any) -> None:
    """Apply one stored gateway event to the read models."""
    for kind, project in _BY_AGGREGATE:
        if isinstance(event, kind):
            project(curs, event)
            return


def _project_order(curs: Cursor[Any], event: Any) -> None:
    order_id, at = event.originator_id, event.timestamp
    if isinstance(event, ChannelOrder.Received):  # type: ignore[attr-defined]
        ChannelOrderViews.insert_order(curs, _received_row(event))
    elif isinstance(event, ChannelOrder.Held):
        ChannelOrderViews.insert_order(curs, _held_row(event))
    elif isinstance(event, ChannelOrder.Released):  # type: ignore[attr-defined]
        ChannelOrderViews.release_order(curs, order_id, at, _canonical(event, domain.ACCEPTED))
    elif isinstance(event, ChannelOrder.ShipmentRecorded):  # type: ignore[attr-defined]
        ChannelOrderViews.append_shipment(curs, order_id, at, event.shipment)
    elif isinstance(event, ChannelOrder.Cancelled):  # type: ignore[attr-defined]
        ChannelOrderViews.mark_cancelled(
            curs, order_id, at, domain.CANCELLED, event.reason, event.cancelled_at
        )
    elif isinstance(event, ChannelOrder.RefundRecorded):  # type: ignore[attr-defined]
        ChannelOrderViews.add_refund(curs, order_id, at, event.refund)


def _canonical(event: Any, status: str) -> dict[str, Any]:
    return {
        "status": status,
        "currency": event.currency,
        "customer": event.customer,
        "shipping_address": event.shipping_address,
        "lines": event.lines,
    }


def _received_row(event: Any) -> dict[str, Any]:
    return {
        "order_id": event.originator_id,
        "channel": event.channel,
        "external_id": event.external_id,
        **_canonical(event, domain.ACCEPTED),
        "at": event.timestamp,
    }


def _held_row(event: Any) -> dict[str, Any]:
    draft = event.draft
    return {
        "order_id": event.originator_id,
        "channel": event.channel,
        "external_id": event.external_id,
        "status": domain.HELD,
        "currency": draft.get("currency"),
        "customer": draft.get("customer") or {},
        "shipping_address": draft.get("shipping_address") or {},
        "lines": draft.get("lines") or [],
        "hold_reasons": event.reasons,
        "at": event.timestamp,
    }


def _project_connection(curs: Cursor[Any], event: Any) -> None:
    at = event.timestamp
    if isinstance(event, ChannelConnection.Registered):  # type: ignore[attr-defined]
        ChannelOrderViews.insert_connection(
            curs,
            {
                "connection_id": event.originator_id,
                "channel_id": event.channel_id,
                "kind": event.kind,
                "config": event.config,
                "sku_mapping": event.sku_mapping,
                "secret_names": event.secret_names,
                "at": at,
            },
        )
        return
    connection_id = event.originator_id
    if isinstance(event, ChannelConnection.Reconfigured):  # type: ignore[attr-defined]
        ChannelOrderViews.update_connection(
            curs, connection_id, at, config=event.config, secret_names=event.secret_names
        )
    elif isinstance(event, ChannelConnection.SkuMappingChanged):  # type: ignore[attr-defined]
        ChannelOrderViews.update_connection(curs, connection_id, at, sku_mapping=event.sku_mapping)
    elif isinstance(event, ChannelConnection.CursorAdvanced):  # type: ignore[attr-defined]
        ChannelOrderViews.update_connection(curs, connection_id, at, cursor=event.cursor)


def _project_delivery(curs: Cursor[Any], event: Any) -> None:
    delivery_id, at = event.originator_id, event.timestamp
    if isinstance(event, Delivery.Scheduled):  # type: ignore[attr-defined]
        ChannelOrderViews.insert_delivery(
            curs,
            {
                "delivery_id": delivery_id,
                "order_id": event.order_id,
                "channel": event.channel,
                "external_id": event.external_id,
                "action": event.action,
                "status": domain.PENDING,
                "due_at": _time(event.due_at),
                "details": event.details,
                "at": at,
            },
        )
    elif isinstance(event, Delivery.Delivered):  # type: ignore[attr-defined]
        ChannelOrderViews.update_delivery(
            curs,
            delivery_id,
            at,
            attempt=1,
            status=domain.DELIVERED,
            outcome=event.outcome,
            due_at=None,
            delivered_at=_time(event.delivered_at),
        )
    elif isinstance(event, Delivery.AttemptFailed):  # type: ignore[attr-defined]
        status = domain.PENDING if event.retry_at is not None else domain.FAILED
        ChannelOrderViews.update_delivery(
            curs,
            delivery_id,
            at,
            attempt=1,
            status=status,
            last_error=event.error,
            due_at=_time(event.retry_at),
        )
    elif isinstance(event, Delivery.Skipped):  # type: ignore[attr-defined]
        ChannelOrderViews.update_delivery(
            curs, delivery_id, at, status=domain.SKIPPED, last_error=event.reason, due_at=None
        )
    elif isinstance(event, Delivery.Retried):  # type: ignore[attr-defined]
        ChannelOrderViews.update_delivery(
            curs, delivery_id, at, status=domain.PENDING, due_at=_time(event.requested_at)
        )


def _time(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


_BY_AGGREGATE: tuple[tuple[type, Any], ...] = (
    (ChannelOrder.Event, _project_order),
    (ChannelConnection.Event, _project_connection),
    (Delivery.Event, _project_delivery),
)
