"""Bins: put a SKU away into a bin (or move it), and a location's bins along the pick path."""

from __future__ import annotations

from fastapi import APIRouter

from services.inventory_service.api.deps import AppDep, BinsPageDep, LocationIdPath, ViewsDep
from services.inventory_service.schemas import BinAssign, BinAssignmentPublic, BinRow, BinsPublic

router = APIRouter()


@router.post("/stock/bins", response_model=BinAssignmentPublic, tags=["stock"])
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
    page: BinsPageDep,
) -> BinsPublic:
    """The location's SKUs with their bins, along the pick path (aisle, bay, level; natural)."""
    rows, total = views.list_bins(location_id, limit=page.limit, offset=page.offset)
    return BinsPublic(
        location_id=location_id,
        data=[BinRow(sku=r["sku"], bin=r["bin"]) for r in rows],
        count=total,
        limit=page.limit,
        offset=page.offset,
    )
