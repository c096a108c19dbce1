"""Deliveries: news pushed to channels, their attempts, and retrying failed ones."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from services.channel_gateway.api.deps import AppDep, ViewsDep
from services.channel_gateway.application import utc_stamp
from services.channel_gateway.schemas import DeliveriesPublic, DeliveryPublic, DeliveryStatus
from shared.runtime.api import Problem
from shared.runtime.application import retry_on_conflict

router = APIRouter(prefix="/deliveries", tags=["deliveries"])
Action = Literal["shipment", "cancellation", "refund"]


@router.get("", response_model=DeliveriesPublic)
def list_deliveries(
    views: ViewsDep,
    status: DeliveryStatus | None = None,
    channel: str | None = None,
    order_id: UUID | None = None,
    action: Action | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeliveriesPublic:
    """Deliveries, newest first, by status (pending, delivered, failed, skipped) and more."""
    rows, total = views.list_deliveries(
        status=status, channel=channel, order_id=order_id, action=action, limit=limit, offset=offset
    )
    return DeliveriesPublic(
        data=[DeliveryPublic.model_validate(r) for r in rows],
        count=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{delivery_id}", response_model=DeliveryPublic)
def get_delivery(delivery_id: UUID, views: ViewsDep) -> DeliveryPublic:
    """One delivery with its last error or outcome."""
    row = views.get_delivery_row(delivery_id)
    if row is None:
        raise Problem(404, "Delivery not found", f"no delivery {delivery_id}")
    return DeliveryPublic.model_validate(row)


@router.post("/{delivery_id}/retry", status_code=202)
def retry_delivery(delivery_id: UUID, app: AppDep) -> dict[str, str]:
    """Try a failed or skipped delivery again (a new round of attempts, due now)."""
    delivery = retry_on_conflict(app.retry_delivery, delivery_id, utc_stamp())
    return {"delivery_id": str(delivery.id), "status": delivery.status}
