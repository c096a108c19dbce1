"""Bins: where each SKU lives at a location, as inventory last said."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.fulfillment_service.api.deps import ViewsDep
from services.fulfillment_service.schemas import BinPublic, BinsPublic
from services.fulfillment_service.schemas.pick_lists import LocationId
from shared.runtime.api import PageQuery, page_query

router = APIRouter(tags=["bins"])


@router.get("/locations/{location_id}/bins", response_model=BinsPublic)
def list_bins(
    location_id: LocationId,
    views: ViewsDep,
    page: Annotated[PageQuery, page_query(default=100)],
    sku: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> BinsPublic:
    """Where each SKU lives at the location, as inventory last said."""
    rows, total = views.list_bins(
        location_id=location_id, sku=sku, limit=page.limit, offset=page.offset
    )
    return BinsPublic.of([BinPublic.model_validate(r) for r in rows], total, page)
