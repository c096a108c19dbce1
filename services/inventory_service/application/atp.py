"""Available to promise: what locations and channels may sell, and where a basket would ship."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.inventory_service.application.allocation import (
    location_of,
    open_sites,
    stock_of,
)
from services.inventory_service.domain import (
    Allocation,
    ChannelRule,
    Policy,
    Shortage,
    Stock,
    channel_atp,
    location_atp,
    open_atp,
    plan,
    stock_id_for,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    # Named as a string by the base class below (the package imports this module).
    from services.inventory_service.application import Inventory  # noqa: F401


@dataclass(frozen=True)
class SkuAtp:
    """A SKU's ATP per open location, in total, and for one channel if asked."""

    sku: str
    locations: dict[str, int]
    total: int
    channel: int | None


def atp_per_location(stock: Stock) -> dict[str, int]:
    """ATP at every location the SKU has stock or safety stock at (closed ones included)."""
    return {
        loc: location_atp(stock.available(loc), stock.safety_stock(loc)) for loc in stock.levels
    }


class Atp(UseCases["Inventory"]):
    """Safety stock, and what may be sold where: reads only, except setting safety stock."""

    @use_case
    def set_safety_stock(
        self, sku: str, location_id: str, quantity: int, uow: UnitOfWork | None = None
    ) -> Stock:
        """Keep units of a SKU back at a location from what channels are told (0 clears)."""
        with self.app.unit_of_work(uow) as work:
            location_of(work, location_id)
            stock = stock_of(work, sku)
            stock.set_safety_stock(location_id, quantity)
            return stock

    def of(self, sku: str, rule: ChannelRule | None) -> SkuAtp:
        """A SKU's ATP per open location and in total, and what the channel may sell."""
        stock = self.app.stocks.get(sku)
        per_location = atp_per_location(stock)
        opened = open_atp(per_location, self.app.locations.inactive(per_location))
        sellable = None if rule is None else channel_atp(opened, rule)
        return SkuAtp(sku=sku, locations=opened, total=sum(opened.values()), channel=sellable)

    def check(
        self,
        requested: dict[str, int],
        country: str | None,
        rule: ChannelRule,
        postal_code: str | None = None,
    ) -> tuple[list[Allocation], list[Shortage]]:
        """Where a basket would ship, routed like a reservation but on the channel's ATP;
        or the short lines. Nothing is reserved or recorded."""
        with self.app.unit_of_work() as work:
            found = {sku: work.find(stock_id_for(sku), Stock) for sku in requested}
            stocks = {sku: stock for sku, stock in found.items() if stock is not None}
            routing = self.app.routing
            sites = [
                site
                for site in open_sites(work, stocks.values(), routing)
                if rule.serves(site.location_id)
            ]
        atp = {sku: atp_per_location(stock) for sku, stock in stocks.items()}
        amounts = {
            sku: {site.location_id: atp.get(sku, {}).get(site.location_id, 0) for site in sites}
            for sku in requested
        }
        short: list[Shortage] = [
            {"sku": sku, "requested": quantity, "available": sellable}
            for sku, quantity in requested.items()
            if (sellable := channel_atp(amounts[sku], rule)) < quantity
        ]
        if short:
            return [], short
        policy = Policy(rules=routing.rules, allowed=rule.locations, splits=rule.splits)
        routed = plan(requested, amounts, sites, routing.destination(country, postal_code), policy)
        return (routed.allocations, []) if not routed.shortages else ([], routed.shortages)
