"""Returns HTTP API: request returns (RMAs), receive them (which refunds), refund without a
return, query them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response

from services.returns_service.application import Returns
from services.returns_service.domain import (
    AmountPlacesError,
    IdempotencyKeyReusedError,
    OrderNotRefundableError,
    OrderNotReturnableError,
    OverRefundError,
    ReceiveQuantityError,
    RefundQuantityError,
    RefundReason,
    RefundWithoutReturn,
    Return,
    ReturnNotFoundError,
    ReturnQuantityError,
    ReturnStatus,
    ShippedOrder,
    SkuNotShippedError,
)
from services.returns_service.schemas import (
    RefundablePublic,
    RefundCreate,
    RefundPublic,
    RefundsPublic,
    ReturnCreate,
    ReturnPublic,
    ReturnReceive,
    ReturnsPublic,
)
from services.returns_service.views import ReturnViews
from shared.runtime.access import AccessPolicy, Grant, Rule
from shared.runtime.api import (
    IdempotencyKey,
    PageQuery,
    Problem,
    links,
    page_query,
    problems,
    provide,
)

ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    OrderNotReturnableError: (404, "Order not returnable"),
    ReturnNotFoundError: (404, "Return not found"),
    IdempotencyKeyReusedError: (422, "Idempotency key reused"),
    # A refused line also names its SKU and how many units it allows (the error's details).
    SkuNotShippedError: (422, "SKU not shipped"),
    ReturnQuantityError: (409, "Quantity not returnable"),
    ReceiveQuantityError: (409, "Quantity not receivable"),
    OrderNotRefundableError: (404, "Order not refundable"),
    # A refused refund names how much can still be refunded (or the SKU and its units).
    OverRefundError: (422, "Refund exceeds what can be refunded"),
    AmountPlacesError: (422, "Amount not in the currency's minor units"),
    RefundQuantityError: (422, "Units not refundable"),
}


AppDep = Annotated[Returns, provide(Returns)]
ViewsDep = Annotated[ReturnViews, provide(ReturnViews)]


PageDep = Annotated[PageQuery, page_query()]
returns = APIRouter(prefix="/returns", tags=["returns"])
refunds = APIRouter(prefix="/refunds", tags=["refunds"])
refundable = APIRouter(prefix="/refundable", tags=["refunds"])
RETURN_OPERATIONS = ("GET /v1/returns/{return_id}", "POST /v1/returns/{return_id}/receive")
REFUND_OPERATIONS = ("GET /v1/refunds/{refund_id}",)
ORDER_OPERATIONS = ("GET /v1/refundable/{order_id}",)


@returns.post(
    "",
    response_model=ReturnPublic,
    status_code=201,
    responses=problems(404, 409) | links(201, *RETURN_OPERATIONS, *ORDER_OPERATIONS),
)
def request_return(
    body: ReturnCreate, app: AppDep, response: Response, idempotency_key: IdempotencyKey = None
) -> ReturnPublic:
    """Authorise a return (RMA) of shipped units that are not on another return yet."""
    rma = app.request_return(body.order_id, body.return_lines(), idempotency_key)
    response.headers["Location"] = f"/v1/returns/{rma.id}"
    return _public(rma)


@returns.post("/{return_id}/receive", response_model=ReturnPublic, responses=problems(409))
def receive_return(
    return_id: UUID, body: ReturnReceive, app: AppDep, idempotency_key: IdempotencyKey = None
) -> ReturnPublic:
    """Record returned units as inspected, and refund them at the price paid."""
    return _public(app.receive_return(return_id, body.receipt_lines(), idempotency_key))


@returns.get(
    "",
    response_model=ReturnsPublic,
    responses=links(200, *RETURN_OPERATIONS, *ORDER_OPERATIONS, at="/data/0"),
)
def list_returns(
    views: ViewsDep,
    page: PageDep,
    order_id: UUID | None = None,
    status: ReturnStatus | None = None,
) -> ReturnsPublic:
    """Returns, newest first, filtered by order and status."""
    rows, total = views.list_returns(
        order_id=order_id, status=status, limit=page.limit, offset=page.offset
    )
    return ReturnsPublic.of([ReturnPublic.model_validate(r) for r in rows], total, page)


@returns.get(
    "/{return_id}",
    response_model=ReturnPublic,
    responses=problems(404) | links(200, *ORDER_OPERATIONS),
)
def get_return(return_id: UUID, views: ViewsDep) -> ReturnPublic:
    """One return with its receipts and refunds."""
    row = views.get_return(return_id)
    if row is None:
        raise Problem(404, "Return not found", f"no return {return_id}")
    return ReturnPublic.model_validate(row)


@refunds.post(
    "",
    response_model=RefundPublic,
    status_code=201,
    responses=problems(404, 422) | links(201, *REFUND_OPERATIONS, *ORDER_OPERATIONS),
)
def refund_without_return(
    body: RefundCreate, app: AppDep, response: Response, idempotency_key: IdempotencyKey = None
) -> RefundPublic:
    """Money back without a return (a short pick, a lost parcel, goodwill), never more than is
    left of what was paid for the order; 422 (nothing recorded) says how much can still be."""
    refund = app.refund_without_return(
        body.order_id,
        RefundReason(body.reason),
        body.refund_lines(),
        body.amount,
        body.note,
        idempotency_key,
    )
    response.headers["Location"] = f"/v1/refunds/{refund.id}"
    return _refund_public(refund)


@refunds.get(
    "",
    response_model=RefundsPublic,
    responses=links(200, *RETURN_OPERATIONS, *REFUND_OPERATIONS, *ORDER_OPERATIONS, at="/data/0"),
)
def list_refunds(
    views: ViewsDep,
    page: PageDep,
    order_id: UUID | None = None,
    return_id: UUID | None = None,
    reason: RefundReason | None = None,
) -> RefundsPublic:
    """Refunds (of returns and without one), newest first, filtered by order, return and
    reason."""
    rows, total = views.list_refunds(
        order_id=order_id,
        return_id=return_id,
        reason=reason,
        limit=page.limit,
        offset=page.offset,
    )
    return RefundsPublic.of([RefundPublic.model_validate(r) for r in rows], total, page)


@refunds.get(
    "/{refund_id}",
    response_model=RefundPublic,
    responses=problems(404) | links(200, *ORDER_OPERATIONS),
)
def get_refund(refund_id: UUID, views: ViewsDep) -> RefundPublic:
    """One refund."""
    row = views.get_refund(refund_id)
    if row is None:
        raise Problem(404, "Refund not found", f"no refund {refund_id}")
    return RefundPublic.model_validate(row)


@refundable.get("/{order_id}", response_model=RefundablePublic, responses=problems(404))
def get_refundable(order_id: UUID, app: AppDep) -> RefundablePublic:
    """What a shipped order paid, what went back of it, and what can still be refunded: per
    SKU the units shipped and short, those a return or refund may still take."""
    return _refundable_public(app.get_refundable(order_id))


ROUTERS: list[APIRouter] = [returns, refunds, refundable]
ACCESS = AccessPolicy(
    {
        "/returns": Rule(writes=Grant.OPS),
        # Receiving is the warehouse's work (or ops' at a shop counter).
        "/returns/{return_id}/receive": Rule(writes=Grant.OPS_OR_WAREHOUSE),
        "/refunds": Rule(writes=Grant.OPS),
        "/refundable": Rule(writes=Grant.OPS),
    }
)
"""Who may call what: ops return and refund, the warehouse receives, every role reads."""


def _refund_public(refund: RefundWithoutReturn) -> RefundPublic:
    """The refund as the command left it (the read model may not have caught up yet)."""
    return RefundPublic.model_validate(
        {
            "refund_id": refund.id,
            "return_id": None,
            "order_id": refund.order_id,
            "sequence": None,
            "reason": refund.reason,
            "refund_kind": refund.kind,
            "amount": refund.amount,
            "full_amount": refund.full_amount,
            "capped": refund.capped,
            "currency": refund.currency,
            "lines": refund.lines,
            "note": refund.note,
            "refunded_at": refund.created_on,
        }
    )


def _refundable_public(order: ShippedOrder) -> RefundablePublic:
    skus = list(dict.fromkeys([line["sku"] for line in order.lines] + list(order.short)))
    return RefundablePublic.model_validate(
        {
            "order_id": order.order_id,
            "currency": order.currency,
            "paid": order.paid_total,
            "refunded": order.refunded_total,
            "refundable": order.refundable,
            "lines": [
                {
                    "sku": sku,
                    "shipped": order.shipped[sku],
                    "returnable": order.returnable(sku),
                    "short": order.short[sku],
                    "short_refundable": order.short_refundable(sku),
                    "paid": order.paid(sku) + order.short_paid(sku),
                }
                for sku in skus
            ],
        }
    )


def _public(rma: Return) -> ReturnPublic:
    """The return as the command left it (the read model may not have caught up yet)."""
    return ReturnPublic.model_validate(
        {
            "return_id": rma.id,
            "order_id": rma.order_id,
            "status": rma.status,
            "currency": rma.currency,
            "lines": rma.line_summary(),
            "receipts": rma.receipts,
            "refunds": rma.refunds,
            "refunded_total": rma.refunded_total,
            "requested_at": rma.created_on,
            "updated_at": rma.modified_on,
        }
    )
