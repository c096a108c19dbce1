"""Fulfillment's copy of the catalogue: kept from ItemChanged, read by packing and printing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from services.fulfillment_service.domain import CatalogueItem, catalogue_item_id_for, labels_of
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:  # the application composes this group: imported for the type only
    from services.fulfillment_service.application import Shipments  # noqa: F401


class Catalogue(UseCases["Shipments"]):
    """Names, barcodes and weights of SKUs, as inventory's catalogue published them."""

    @use_case
    def describe_item(
        self,
        sku: str,
        name: str,
        variant: str | None,
        gtins: list[str],
        weight_grams: int | None,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """Inventory's catalogue changed an item; returns whether that is news here."""
        with self.app.unit_of_work(uow) as work:
            item = work.find(catalogue_item_id_for(sku), CatalogueItem)
            if item is None:
                work.add(
                    CatalogueItem(
                        sku=sku, name=name, variant=variant, gtins=gtins, weight_grams=weight_grams
                    )
                )
                return True
            return item.describe(name, variant, gtins, weight_grams)

    def items(
        self, skus: Iterable[str], work: UnitOfWork | None = None
    ) -> dict[str, CatalogueItem]:
        """The catalogue items of these SKUs that fulfillment has heard of."""
        with self.app.unit_of_work(work) as unit:
            found = {sku: unit.find(catalogue_item_id_for(sku), CatalogueItem) for sku in set(skus)}
        return {sku: item for sku, item in found.items() if item is not None}

    def labels(self, skus: Iterable[str]) -> dict[str, str]:
        """What the papers call these SKUs: catalogue name and variant (those it knows)."""
        return labels_of(self.items(skus))
