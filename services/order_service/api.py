"""Order HTTP API: query orders and cancel them."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Request

from services.order_service import domain
from services.order_service.application import Orders
from services.order_service.schemas import OrderCancel, OrderCancelled, OrderPublic, OrdersPublic
from services.order_service.views import OrderViews
from shared.runtime.api import Problem
from shared.runtime.application import retry_on_conflict

Status = Literal[
    "placed",
    "confirmed",
    "backordered",
    "partially_shipped",
    "shipped",
    "partially_returned",
    "returned",
    "cancelled",
]
ERROR_STATUSES = {
    domain.OrderNotFoundError: (404, "Order not found"),
    domain.OrderNotCancellableError: (409, "Order not cancellable"),
}


def get_app(request: Request) -> Orders:
    """The Orders application of this process."""
    return request.app.state.orders


def get_views(request: Request) -> OrderViews:
    """The order read model of this process."""
    return request.app.state.views


AppDep = Annotated[Orders, Depends(get_app)]
ViewsDep = Annotated[OrderViews, Depends(get_views)]
router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=OrdersPublic)
def list_orders(
    views: ViewsDep,
    status: Status | None = None,
    channel: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> OrdersPublic:
    """Orders, newest first, filtered by status and channel."""
    rows, total = views.list_orders(status=status, channel=channel, limit=limit, offset=offset)
    return OrdersPublic(
        data=[OrderPublic.model_validate(r) for r in rows], count=total, limit=limit, offset=offset
    )


@router.get("/{order_id}", response_model=OrderPublic)
def get_order(order_id: UUID, views: ViewsDep) -> OrderPublic:
    """One order with its timeline."""
    row = views.get_order(order_id)
    if row is None:
        raise Problem(404, "Order not found", f"no order {order_id}")
    return OrderPublic.model_validate(row)


@router.post("/{order_id}/cancel", response_model=OrderCancelled, status_code=202)
def cancel_order(
    order_id: UUID, app: AppDep, body: Annotated[OrderCancel | None, Body()] = None
) -> OrderCancelled:
    """Cancel an order that has not shipped; its reservation and shipments are released."""
    reason = (body or OrderCancel()).reason
    order = retry_on_conflict(app.cancel_order, order_id, reason)
    return OrderCancelled(order_id=order.id, status=order.status)
