"""Discrepancies: what short picks proposed, and how ops confirm or reject them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query

from services.inventory_service.api.deps import AppDep, ViewsDep
from services.inventory_service.domain import DiscrepancyStatus
from services.inventory_service.schemas import (
    DiscrepanciesPublic,
    DiscrepancyPublic,
    DiscrepancyResolve,
    discrepancy_public,
)
from shared.runtime.api import PageQuery, links, page_query, problems

router = APIRouter(prefix="/stock/discrepancies", tags=["stock"])

Resolution = Annotated[DiscrepancyResolve | None, Body()]
DISCREPANCY_OPERATIONS = (
    "GET /v1/stock/discrepancies/{discrepancy_id}",
    "POST /v1/stock/discrepancies/{discrepancy_id}/confirm",
    "POST /v1/stock/discrepancies/{discrepancy_id}/reject",
    "GET /v1/reservations/{order_id}",
)


@router.get(
    "",
    response_model=DiscrepanciesPublic,
    responses=links(200, *DISCREPANCY_OPERATIONS, at="/data/0"),
)
def list_discrepancies(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query(default=100, maximum=500)],
    status: DiscrepancyStatus | None = None,
    location_id: Annotated[str | None, Query(max_length=64)] = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
) -> DiscrepanciesPublic:
    """Stock adjustments proposed by short picks, oldest first; ops work through `proposed`."""
    rows, total = views.list_discrepancies(
        status=status, location_id=location_id, sku=sku, limit=page.limit, offset=page.offset
    )
    return DiscrepanciesPublic.of([DiscrepancyPublic.model_validate(r) for r in rows], total, page)


@router.get(
    "/{discrepancy_id}",
    response_model=DiscrepancyPublic,
    responses=links(200, *DISCREPANCY_OPERATIONS),
)
def get_discrepancy(discrepancy_id: UUID, app: AppDep) -> DiscrepancyPublic:
    """One discrepancy, as recorded."""
    return discrepancy_public(app.discrepancies.get(discrepancy_id))


@router.post("/{discrepancy_id}/confirm", response_model=DiscrepancyPublic, responses=problems(409))
def confirm_discrepancy(
    discrepancy_id: UUID, app: AppDep, body: Resolution = None
) -> DiscrepancyPublic:
    """The units are gone: on hand drops by them (reason "short pick"); repeating is a no-op."""
    note = body.note if body else None
    return discrepancy_public(app.discrepancies.confirm(discrepancy_id, note))


@router.post("/{discrepancy_id}/reject", response_model=DiscrepancyPublic, responses=problems(409))
def reject_discrepancy(
    discrepancy_id: UUID, app: AppDep, body: Resolution = None
) -> DiscrepancyPublic:
    """The units were found: on hand stays and they can be promised again; repeating is a no-op."""
    note = body.note if body else None
    return discrepancy_public(app.discrepancies.reject(discrepancy_id, note))
