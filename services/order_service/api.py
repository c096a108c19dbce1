"""Order HTTP API: query orders, cancel them, record payments, change the ship-to."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body

from services.order_service.application import Orders
from services.order_service.domain import (
    NoCancelRequestError,
    OrderCancelledError,
    OrderNotCancellableError,
    OrderNotEditableError,
    OrderNotFoundError,
    OrderStatus,
)
from services.order_service.schemas import (
    CancelRequestAnswer,
    CancelRequestAnswered,
    OrderCancel,
    OrderCancelled,
    OrderPublic,
    OrdersPublic,
    PaymentCreate,
    PaymentRecorded,
    ShipToChange,
    ShipToChanged,
)
from services.order_service.views import OrderViews
from shared import money
from shared.payments import PaymentState
from shared.runtime.api import Page, PageQuery, Problem, links, page_query, problems, provide

AppDep = Annotated[Orders, provide(Orders)]
ViewsDep = Annotated[OrderViews, provide(OrderViews)]
PageDep = Annotated[PageQuery, page_query(default=50, maximum=500)]

router = APIRouter(prefix="/orders", tags=["orders"])
ORDER_OPERATIONS = (
    "GET /v1/orders/{order_id}",
    "POST /v1/orders/{order_id}/cancel",
    "POST /v1/orders/{order_id}/payments",
    "POST /v1/orders/{order_id}/ship-to",
    "POST /v1/orders/{order_id}/cancel-request",
)


@router.get("", response_model=OrdersPublic, responses=links(200, *ORDER_OPERATIONS, at="/data/0"))
def list_orders(
    views: ViewsDep,
    *,
    status: OrderStatus | None = None,
    channel: str | None = None,
    payment_state: PaymentState | None = None,
    page: PageDep,
) -> Page[OrderPublic]:
    """Orders, newest first, filtered by status, channel and payment state."""
    rows, total = views.list_orders(
        status=status,
        channel=channel,
        payment_state=payment_state,
        limit=page.limit,
        offset=page.offset,
    )
    return OrdersPublic.of([OrderPublic.model_validate(r) for r in rows], total, page)


@router.get("/{order_id}", response_model=OrderPublic)
def get_order(order_id: UUID, views: ViewsDep) -> OrderPublic:
    """One order with its timeline."""
    row = views.get_order(order_id)
    if row is None:
        raise Problem(404, "Order not found", f"no order {order_id}")
    return OrderPublic.model_validate(row)


@router.post(
    "/{order_id}/cancel", response_model=OrderCancelled, status_code=202, responses=problems(409)
)
def cancel_order(
    order_id: UUID, app: AppDep, body: Annotated[OrderCancel | None, Body()] = None
) -> OrderCancelled:
    """Cancel an order that has not shipped; its reservation and shipments are released."""
    order = app.cancel_order(order_id, (body or OrderCancel()).reason)
    return OrderCancelled(order_id=order.id, status=order.status)


@router.post(
    "/{order_id}/cancel-request",
    response_model=CancelRequestAnswered,
    status_code=202,
    responses=problems(409),
)
def answer_cancel_request(
    order_id: UUID, body: CancelRequestAnswer, app: AppDep
) -> CancelRequestAnswered:
    """Answer the buyer's cancellation request held for ops (channel policy `ops`): accepting
    cancels the order (409 once it is under way), refusing keeps it going; the channel is told.
    409 when no request waits for an answer."""
    order = app.answer_cancel_request(order_id, body.accept, "ops", body.why)
    return CancelRequestAnswered(order_id=order.id, status=order.status, accepted=body.accept)


@router.post(
    "/{order_id}/payments",
    response_model=PaymentRecorded,
    status_code=202,
    responses=problems(409),
)
def record_payment(order_id: UUID, body: PaymentCreate, app: AppDep) -> PaymentRecorded:
    """Record what the merchant saw of the payment (a bank transfer, cash on delivery collected);
    an order held for payment goes to the warehouse once its channel's policy allows."""
    if body.amount is not None:
        currency = app.get_order(order_id).currency
        if not money.fits(body.amount, currency):
            raise Problem(
                422,
                "Amount does not fit the currency",
                f"{body.amount} has more decimal places than {currency} allows"
                f" ({money.minor_units(currency)})",
            )
    order = app.record_payment(
        order_id,
        body.payment_state,
        amount=body.amount,
        reference=body.reference,
        source="merchant",
    )
    return PaymentRecorded(
        order_id=order.id, status=order.status, payment_state=order.payment_state
    )


@router.post(
    "/{order_id}/ship-to", response_model=ShipToChanged, status_code=202, responses=problems(409)
)
def change_ship_to(order_id: UUID, body: ShipToChange, app: AppDep) -> ShipToChanged:
    """Ship the order to another address, before any of it is picked: its open shipments take
    it. Refused once it was cancelled or shipped, or picking started (the problem names the
    shipment). The stock stays reserved where it was routed."""
    order = app.change_ship_to(order_id, body.shipping_address.address(), body.reason)
    return ShipToChanged(
        order_id=order.id, status=order.status, shipping_address=dict(order.shipping_address)
    )


ROUTERS: list[APIRouter] = [router]
ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    OrderNotFoundError: (404, "Order not found"),
    OrderNotCancellableError: (409, "Order not cancellable"),
    OrderCancelledError: (409, "Order cancelled"),
    OrderNotEditableError: (409, "Order not editable"),
    NoCancelRequestError: (409, "No cancellation request"),
}
