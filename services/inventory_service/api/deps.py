"""What the inventory routers depend on: the application, the views, path parameters."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path
from pydantic import AwareDatetime, BeforeValidator

from services.inventory_service.application import Inventory
from services.inventory_service.views import InventoryViews
from shared.runtime.api import provide

AppDep = Annotated[Inventory, provide(Inventory)]
ViewsDep = Annotated[InventoryViews, provide(InventoryViews)]
LocationIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-/]+$")]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: object) -> object:
    """Only an RFC 3339 time with its offset: pydantic alone would read "0.5" as 1970."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 time with an offset, such as 2026-01-31T12:00:00Z")
    return value


TimeQuery = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
