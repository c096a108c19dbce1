"""Deliveries: news pushed to channels, their attempts, and retrying failed ones."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter

from services.channel_gateway.api.deps import AppDep, ViewsDep
from services.channel_gateway.domain import DeliveryAction, DeliveryStatus
from services.channel_gateway.schemas import DeliveriesPublic, DeliveryPublic, DeliveryRetried
from shared.runtime.api import PageQuery, Problem, links, page_query, problems

router = APIRouter(prefix="/deliveries", tags=["deliveries"])
DELIVERY_OPERATIONS = (
    "GET /v1/deliveries/{delivery_id}",
    "POST /v1/deliveries/{delivery_id}/retry",
)


@router.get(
    "", response_model=DeliveriesPublic, responses=links(200, *DELIVERY_OPERATIONS, at="/data/0")
)
def list_deliveries(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query()],
    status: DeliveryStatus | None = None,
    channel: str | None = None,
    order_id: UUID | None = None,
    action: DeliveryAction | None = None,
) -> DeliveriesPublic:
    """Deliveries, newest first, by status (pending, delivered, failed, skipped) and more."""
    rows, total = views.list_deliveries(
        status=status,
        channel=channel,
        order_id=order_id,
        action=action,
        limit=page.limit,
        offset=page.offset,
    )
    return DeliveriesPublic.of([DeliveryPublic.model_validate(r) for r in rows], total, page)


@router.get("/{delivery_id}", response_model=DeliveryPublic)
def get_delivery(delivery_id: UUID, views: ViewsDep) -> DeliveryPublic:
    """One delivery with its last error or outcome."""
    row = views.get_delivery_row(delivery_id)
    if row is None:
        raise Problem(404, "Delivery not found", f"no delivery {delivery_id}")
    return DeliveryPublic.model_validate(row)


@router.post(
    "/{delivery_id}/retry", response_model=DeliveryRetried, status_code=202, responses=problems(409)
)
def retry_delivery(delivery_id: UUID, app: AppDep) -> DeliveryRetried:
    """Try a failed or skipped delivery again (a new round of attempts, due now)."""
    delivery = app.deliveries.retry(delivery_id)
    return DeliveryRetried(delivery_id=delivery.id, status=delivery.status)
