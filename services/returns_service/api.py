"""Returns HTTP API: request returns (RMAs), receive them (which refunds), query them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from services.returns_service import domain
from services.returns_service.application import Returns
from services.returns_service.schemas import (
    RefundPublic,
    RefundsPublic,
    ReturnCreate,
    ReturnPublic,
    ReturnReceive,
    ReturnsPublic,
)
from services.returns_service.views import ReturnViews
from shared.runtime.api import Problem
from shared.runtime.application import retry_on_conflict

Status = Literal["requested", "partially_received", "received"]
ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    domain.OrderNotReturnableError: (404, "Order not returnable"),
    domain.ReturnNotFoundError: (404, "Return not found"),
    domain.IdempotencyKeyReusedError: (422, "Idempotency key reused"),
}
# Line errors carry the SKU and how many units it allows, so they become Problems with extras.
LINE_ERROR_STATUSES = {
    domain.SkuNotShippedError: (422, "SKU not shipped"),
    domain.ReturnQuantityError: (409, "Quantity not returnable"),
    domain.ReceiveQuantityError: (409, "Quantity not receivable"),
}


def get_app(request: Request) -> Returns:
    """The Returns application of this process."""
    return request.app.state.returns


def get_views(request: Request) -> ReturnViews:
    """The returns read model of this process."""
    return request.app.state.views


AppDep = Annotated[Returns, Depends(get_app)]
ViewsDep = Annotated[ReturnViews, Depends(get_views)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retrying with the same key returns the first result and records nothing.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
router = APIRouter(prefix="/returns", tags=["returns"])
refunds_router = APIRouter(prefix="/refunds", tags=["refunds"])


@router.post("", response_model=ReturnPublic, status_code=201)
def request_return(
    body: ReturnCreate, app: AppDep, response: Response, idempotency_key: IdempotencyKey = None
) -> ReturnPublic:
    """Authorise a return (RMA) of shipped units that are not on another return yet."""
    lines = [line.model_dump() for line in body.lines]
    rma = _command(app.request_return, body.order_id, lines, idempotency_key)
    response.headers["Location"] = f"/v1/returns/{rma.id}"
    return _public(rma)


@router.post("/{return_id}/receive", response_model=ReturnPublic)
def receive_return(
    return_id: UUID, body: ReturnReceive, app: AppDep, idempotency_key: IdempotencyKey = None
) -> ReturnPublic:
    """Record returned units as inspected, and refund them at the price paid."""
    lines = [line.model_dump() for line in body.lines]
    return _public(_command(app.receive_return, return_id, lines, idempotency_key))


@router.get("", response_model=ReturnsPublic)
def list_returns(
    views: ViewsDep,
    order_id: UUID | None = None,
    status: Status | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ReturnsPublic:
    """Returns, newest first, filtered by order and status."""
    rows, total = views.list_returns(order_id=order_id, status=status, limit=limit, offset=offset)
    return ReturnsPublic(
        data=[ReturnPublic.model_validate(r) for r in rows], count=total, limit=limit, offset=offset
    )


@router.get("/{return_id}", response_model=ReturnPublic)
def get_return(return_id: UUID, views: ViewsDep) -> ReturnPublic:
    """One return with its receipts and refunds."""
    row = views.get_return(return_id)
    if row is None:
        raise Problem(404, "Return not found", f"no return {return_id}")
    return ReturnPublic.model_validate(row)


@refunds_router.get("", response_model=RefundsPublic)
def list_refunds(
    views: ViewsDep,
    order_id: UUID | None = None,
    return_id: UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RefundsPublic:
    """Refunds, newest first, filtered by order and return."""
    rows, total = views.list_refunds(
        order_id=order_id, return_id=return_id, limit=limit, offset=offset
    )
    return RefundsPublic(
        data=[RefundPublic.model_validate(r) for r in rows], count=total, limit=limit, offset=offset
    )


def _command(command: Callable[..., domain.Return], *args: Any) -> domain.Return:
    """Run a command, retried on conflicts; a refused line names its SKU and what it allows."""
    try:
        return retry_on_conflict(command, *args)
    except domain.ReturnLineError as error:
        status, title = LINE_ERROR_STATUSES[type(error)]
        raise Problem(status, title, str(error), **error.details()) from None


def _public(rma: domain.Return) -> ReturnPublic:
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
