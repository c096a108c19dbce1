"""Bins: put a SKU away into a bin (or move it), and a location's bins along the pick path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from services.inventory_service.api.deps import AppDep, LocationIdPath, ViewsDep
from services.inventory_service.schemas import BinAssign, BinAssignmentPublic, BinRow, BinsPublic
from shared.runtime.api import PageQuery, Problem, links, page_query, problems

router = APIRouter()


@router.post(
    "/stock/bins",
    response_model=BinAssignmentPublic,
    tags=["stock"],
    responses=problems(404) | links(200, "GET /v1/stock/{sku}"),
)
def assign_bin(body: BinAssign, app: AppDep) -> BinAssignmentPublic:
    """Put a SKU away into a bin at a location, or move it there; publishes BinAssigned."""
    previous = app.stocks.assign_bin(body.location_id, body.sku, body.bin)
    return BinAssignmentPublic(
        location_id=body.location_id,
        sku=body.sku,
        bin=body.bin,
        previous_bin=previous,
        moved=previous != body.bin,
    )


@router.get("/locations/{location_id}/bins", response_model=BinsPublic, tags=["locations"])
def list_bins(
    location_id: LocationIdPath,
    views: ViewsDep,
    page: Annotated[PageQuery, page_query(default=500, maximum=1000)],
) -> BinsPublic:
    """The location's SKUs with their bins, along the pick path (aisle, bay, level; natural)."""
    found = views.list_bins(location_id, limit=page.limit, offset=page.offset)
    if found is None:
        raise Problem(404, "Location not found", f"no location {location_id}")
    rows, total = found
    return BinsPublic(
        location_id=location_id,
        data=[BinRow(sku=r["sku"], bin=r["bin"]) for r in rows],
        count=total,
        limit=page.limit,
        offset=page.offset,
    )
