"""The catalogue: put an item by SKU (create or update), read one, search them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.inventory_service.api.deps import AppDep, SkuPath, ViewsDep
from services.inventory_service.schemas.catalogue import (
    ItemPublic,
    ItemPut,
    ItemPutResult,
    ItemsPublic,
)
from shared.runtime.api import PageQuery, Responses, links, page_query, problems

router = APIRouter(prefix="/items", tags=["catalogue"])
CREATED: Responses = {201: {"model": ItemPutResult, "description": "Created"}}


@router.put(
    "/{sku:path}",
    response_model=ItemPutResult,
    status_code=200,
    responses=CREATED | problems(409) | links(200, "GET /v1/items/{sku}"),
)
def put_item(sku: SkuPath, body: ItemPut, app: AppDep, response: Response) -> ItemPutResult:
    """Create (201) or update (200) a SKU's item; the same details again change nothing.

    Each real change publishes ItemChanged on oms.inventory.v1, keyed by the SKU. A GTIN
    another SKU carries is a 409.
    """
    item, created, changed = app.catalogue.put_item(sku, body.details())
    response.status_code = 201 if created else 200
    return ItemPutResult(**ItemPublic.of(item).model_dump(), created=created, changed=changed)


@router.get("/{sku:path}", response_model=ItemPublic, responses=problems(404))
def get_item(sku: SkuPath, app: AppDep) -> ItemPublic:
    """A SKU's item as last put."""
    return ItemPublic.of(app.catalogue.get_item(sku))


@router.get(
    "", response_model=ItemsPublic, responses=links(200, "GET /v1/items/{sku}", at="/data/0")
)
def list_items(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query(default=50, maximum=500)],
    search: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="part of the name, variant or SKU (any case), or a whole GTIN",
        ),
    ] = None,
) -> ItemsPublic:
    """Items by SKU, optionally only those matching `search`."""
    rows, total = views.search_items(
        search.strip() if search else None, limit=page.limit, offset=page.offset
    )
    return ItemsPublic.of([ItemPublic.from_row(r) for r in rows], total, page)
