"""What the inventory routers depend on: the application, the views, paths and pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from services.inventory_service.application import Inventory
from services.inventory_service.views import InventoryViews
from shared.runtime.api import MAX_OFFSET, PageQuery, provide

AppDep = Annotated[Inventory, provide(Inventory)]
ViewsDep = Annotated[InventoryViews, provide(InventoryViews)]
LocationIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-/]+$")]


# What shared.runtime.api.page_query(default, maximum) gives, with literal bounds: as shipped,
# page_query names its closure's `maximum` inside a string annotation, which FastAPI cannot
# resolve, so every request passing `limit` fails. Swap these for page_query once it is fixed.
def _page(
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PageQuery:
    return PageQuery(limit=limit, offset=offset)


def _bins_page(
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PageQuery:
    return PageQuery(limit=limit, offset=offset)


PageDep = Annotated[PageQuery, Depends(_page)]
"""A page of a list: 100 rows unless `limit` says otherwise (at most 500)."""
BinsPageDep = Annotated[PageQuery, Depends(_bins_page)]
"""A page of a location's bins: 500 rows unless `limit` says otherwise (at most 1000)."""
