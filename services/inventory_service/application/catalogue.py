"""The catalogue: put a SKU's details (create or update) and read them back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.inventory_service.domain import (
    Barcode,
    Item,
    ItemDetails,
    ItemNotFoundError,
    barcode_id_for,
    gtin14,
    item_id_for,
)
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
        """Create or update a SKU's item; (item, created, changed). Same details: no event.

        BarcodeTakenError, and nothing recorded, when a GTIN belongs to another SKU.
        """
        with self.app.unit_of_work(uow) as work:
            item = work.find(item_id_for(sku), Item)
            before = [] if item is None else item.details["gtins"]
            if item is None:
                item = Item.add(sku, details)
                work.add(item)
                created, changed = True, True
            else:
                created, changed = False, item.update(details)
            if changed:
                _move_barcodes(work, sku, before, details["gtins"])
            return item, created, changed

    def get_item(self, sku: str) -> Item:
        """The SKU's item as its events say it is now."""
        with self.app.unit_of_work() as work:
            item = work.find(item_id_for(sku), Item)
        if item is None:
            raise ItemNotFoundError(f"no item {sku} in the catalogue")
        return item


def _move_barcodes(work: UnitOfWork, sku: str, before: list[str], after: list[str]) -> None:
    """Claim the SKU's new GTINs and release those it dropped, in the item's unit of work."""
    kept = {gtin14(g) for g in after}
    for gtin in before:
        barcode = work.find(barcode_id_for(gtin), Barcode)
        if barcode is not None and gtin14(gtin) not in kept:
            barcode.release(sku)
            work.add(barcode)
    for gtin in after:
        barcode = work.find(barcode_id_for(gtin), Barcode)
        if barcode is None:
            work.add(Barcode(gtin=gtin, sku=sku))
        else:
            barcode.claim(sku)
            work.add(barcode)
