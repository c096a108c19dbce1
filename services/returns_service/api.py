"""Returns HTTP API: request returns (RMAs), receive them (which refunds), query them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response

from services.returns_service.application import Returns
from services.returns_service.domain import (
    IdempotencyKeyReusedError,
    OrderNotReturnableError,
    ReceiveQuantityError,
    Return,
    ReturnNotFoundError,
    ReturnQuantityError,
    ReturnStatus,
    SkuNotShippedError,
)
from services.returns_service.schemas import (
    RefundPublic,
    RefundsPublic,
    ReturnCreate,
    ReturnPublic,
    ReturnReceive,
    ReturnsPublic,
)
from services.returns_service.views import ReturnViews
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
}


AppDep = Annotated[Returns, provide(Returns)]
ViewsDep = Annotated[ReturnViews, provide(ReturnViews)]


PageDep = Annotated[PageQuery, page_query()]
returns = APIRouter(prefix="/returns", tags=["returns"])
refunds = APIRouter(prefix="/refunds", tags=["refunds"])
RETURN_OPERATIONS = ("GET /v1/returns/{return_id}", "POST /v1/returns/{return_id}/receive")


@returns.post(
    "",
    response_model=ReturnPublic,
    status_code=201,
    responses=problems(404, 409) | links(201, *RETURN_OPERATIONS),
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
    "", response_model=ReturnsPublic, responses=links(200, *RETURN_OPERATIONS, at="/data/0")
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


@returns.get("/{return_id}", response_model=ReturnPublic)
def get_return(return_id: UUID, views: ViewsDep) -> ReturnPublic:
    """One return with its receipts and refunds."""
    row = views.get_return(return_id)
    if row is None:
        raise Problem(404, "Return not found", f"no return {return_id}")
    return ReturnPublic.model_validate(row)


@refunds.get(
    "", response_model=RefundsPublic, responses=links(200, *RETURN_OPERATIONS, at="/data/0")
)
def list_refunds(
    views: ViewsDep,
    page: PageDep,
    order_id: UUID | None = None,
    return_id: UUID | None = None,
) -> RefundsPublic:
    """Refunds, newest first, filtered by order and return."""
    rows, total = views.list_refunds(
        order_id=order_id, return_id=return_id, limit=page.limit, offset=page.offset
    )
    return RefundsPublic.of([RefundPublic.model_validate(r) for r in rows], total, page)


ROUTERS: list[APIRouter] = [returns, refunds]


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
