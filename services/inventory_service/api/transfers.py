"""Transfers: ship units between locations, receive them in parts, cancel, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.inventory_service.api.deps import AppDep, LocationIdPath, ViewsDep
from services.inventory_service.domain import TransferStatus
from services.inventory_service.schemas.supply import (
    TransferCancel,
    TransferCreate,
    TransferPublic,
    TransferReceipt,
    TransfersPublic,
    lines_of,
)
from shared.runtime.api import IdempotencyKey, PageQuery, links, page_query, problems

router = APIRouter(prefix="/transfers", tags=["transfers"])

TransferIdPath = LocationIdPath  # the same alphabet: letters, digits, ".", "_", "-"

TRANSFER_OPERATIONS = (
    "GET /v1/transfers/{transfer_id}",
    "POST /v1/transfers/{transfer_id}/receive",
    "POST /v1/transfers/{transfer_id}/cancel",
)


@router.post(
    "",
    response_model=TransferPublic,
    status_code=201,
    responses={200: {"model": TransferPublic, "description": "Already shipped"}}
    | problems(404, 409)
    | links(201, *TRANSFER_OPERATIONS),
)
def ship_transfer(body: TransferCreate, app: AppDep, response: Response) -> TransferPublic:
    """Ship units from one location to another (201): they leave the source's on hand and are
    in transit until received. All lines must be available at the source (409 otherwise,
    nothing recorded); the same transfer again answers 200, a different one with its id 409."""
    transfer, created = app.transfers.ship(
        body.transfer_id,
        body.from_location,
        body.to_location,
        lines_of(body.lines),
        body.expected_at,
    )
    response.status_code = 201 if created else 200
    return TransferPublic.of(transfer)


@router.get(
    "", response_model=TransfersPublic, responses=links(200, *TRANSFER_OPERATIONS, at="/data/0")
)
def list_transfers(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query(default=50, maximum=500)],
    status: TransferStatus | None = None,
    from_location: Annotated[str | None, Query(max_length=64)] = None,
    to_location: Annotated[str | None, Query(max_length=64)] = None,
) -> TransfersPublic:
    """Transfers, newest first, optionally by status, source or destination."""
    rows, total = views.list_transfers(
        status=status,
        from_location=from_location,
        to_location=to_location,
        limit=page.limit,
        offset=page.offset,
    )
    return TransfersPublic.of([TransferPublic.of_row(row) for row in rows], total, page)


@router.get("/{transfer_id}", response_model=TransferPublic)
def get_transfer(transfer_id: TransferIdPath, app: AppDep) -> TransferPublic:
    """A transfer: what left, what arrived, what is still in transit."""
    return TransferPublic.of(app.transfers.get(transfer_id))


@router.post("/{transfer_id}/receive", response_model=TransferPublic, responses=problems(409))
def receive_transfer(
    transfer_id: TransferIdPath,
    body: TransferReceipt,
    app: AppDep,
    idempotency_key: IdempotencyKey = None,
) -> TransferPublic:
    """Units of a transfer arrived at its destination (in parts if need be): on hand there
    grows and waiting orders are served. More than is still in transit, or a cancelled
    transfer: 409. The same receipt_id (or Idempotency-Key) again records nothing."""
    receipt_id = body.receipt_id or (f"key:{idempotency_key}" if idempotency_key else None)
    return TransferPublic.of(app.transfers.receive(transfer_id, lines_of(body.lines), receipt_id))


@router.post("/{transfer_id}/cancel", response_model=TransferPublic, responses=problems(409))
def cancel_transfer(
    transfer_id: TransferIdPath, body: TransferCancel, app: AppDep
) -> TransferPublic:
    """Call a transfer off before anything arrived: its units are back on hand at the source.
    Once a unit was received: 409. Cancelling again changes nothing."""
    return TransferPublic.of(app.transfers.cancel(transfer_id, body.reason))
