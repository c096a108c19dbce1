"""Channel order projection: ChannelOrder events -> channel_order_view rows."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from services.channel_gateway import domain
from services.channel_gateway.domain import ChannelOrder
from services.channel_gateway.views import ChannelOrderViews

PROJECTION = "channel_order_summary"


def project_channel_order(curs: Cursor[Any], event: Any) -> None:
    """Apply one stored ChannelOrder event to the read model."""
    if not isinstance(event, ChannelOrder.Event):
        return
    order_id, at = event.originator_id, event.timestamp
    if isinstance(event, ChannelOrder.Received):  # type: ignore[attr-defined]
        ChannelOrderViews.insert_order(curs, _received_row(event))
    elif isinstance(event, ChannelOrder.ShipmentRecorded):  # type: ignore[attr-defined]
        ChannelOrderViews.append_shipment(curs, order_id, at, event.shipment)
    elif isinstance(event, ChannelOrder.Cancelled):  # type: ignore[attr-defined]
        ChannelOrderViews.mark_cancelled(
            curs, order_id, at, domain.CANCELLED, event.reason, event.cancelled_at
        )
    elif isinstance(event, ChannelOrder.RefundRecorded):  # type: ignore[attr-defined]
        ChannelOrderViews.add_refund(curs, order_id, at, event.refund)


def _received_row(event: Any) -> dict[str, Any]:
    return {
        "order_id": event.originator_id,
        "channel": event.channel,
        "external_id": event.external_id,
        "status": domain.ACCEPTED,
        "currency": event.currency,
        "customer": event.customer,
        "shipping_address": event.shipping_address,
        "lines": event.lines,
        "at": event.timestamp,
    }
