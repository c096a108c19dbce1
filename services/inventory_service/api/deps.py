"""What the inventory routers depend on: the application, the views, path parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from services.inventory_service.application import Inventory
from services.inventory_service.views import InventoryViews
from shared.runtime.api import provide

AppDep = Annotated[Inventory, provide(Inventory)]
ViewsDep = Annotated[InventoryViews, provide(InventoryViews)]
LocationIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-/]+$")]
