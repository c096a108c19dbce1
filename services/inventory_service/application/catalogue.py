"""The catalogue: put a SKU's details (create or update) and read them back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.inventory_service.domain import Item, ItemDetails, ItemNotFoundError, item_id_for
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    # Named as a string by the base class below (the package imports this module).
    from services.inventory_service.application import Inventory  # noqa: F401


class Catalogue(UseCases["Inventory"]):
    """One item per SKU: created on first put, changed only when its details differ."""

    @use_case
    def put_item(
        self, sku: str, details: ItemDetails, uow: UnitOfWork | None = None
    ) -> tuple[Item, bool, bool]:
        """Create or update a SKU's item; (item, created, changed). Same details: no event."""
        with self.app.unit_of_work(uow) as work:
            item = work.find(item_id_for(sku), Item)
            if item is None:
                item = Item.add(sku, details)
                work.add(item)
                return item, True, True
            return item, False, item.update(details)

    def get_item(self, sku: str) -> Item:
        """The SKU's item as its events say it is now."""
        with self.app.unit_of_work() as work:
            item = work.find(item_id_for(sku), Item)
        if item is None:
            raise ItemNotFoundError(f"no item {sku} in the catalogue")
        return item
