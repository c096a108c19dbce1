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
    ChannelLevel,
    ChannelRule,
    ChannelRules,
    Location,
    Policy,
    Shortage,
    Stock,
    channel_atp,
    channel_levels,
    location_atp,
    location_id_for,
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

    def levels_for_channels(
        self, stock: Stock, work: UnitOfWork, rules: ChannelRules
    ) -> dict[str, ChannelLevel]:
        """What every channel may sell of the SKU, read in the unit that changes it."""
        per_location = atp_per_location(stock)
        locations = (work.find(location_id_for(loc), Location) for loc in per_location)
        inactive = [loc.location_id for loc in locations if loc is not None and not loc.active]
        return channel_levels(per_location, inactive, rules)

    def tell_channels(self, work: UnitOfWork) -> None:
        """Record what channels may sell of each SKU this unit changes, when that changed:
        the one place that sees every stock change (published as ChannelAvailabilityChanged).

        Cheap on the hot path: the stock and its locations are already in the unit, and
        nothing is recorded while the channels' figures stay the same.
        """
        for stock in work.changed(Stock):
            if all(isinstance(e, Stock.ChannelsTold) for e in stock.pending_events):
                continue
            stock.tell_channels(self.levels_for_channels(stock, work, self.app.channel_rules))

    def retell_all(self, skus: list[str], chunk: int = 200) -> int:
        """retell_channels over many SKUs, a chunk per unit of work; how many changed."""
        return sum(
            self.retell_channels(skus[start : start + chunk])
            for start in range(0, len(skus), chunk)
        )

    @use_case
    def retell_channels(self, skus: list[str], uow: UnitOfWork | None = None) -> int:
        """Tell channels again what they may sell of these SKUs, where that changed (after a
        location opened or closed, or the channel rules changed); how many SKUs changed."""
        with self.app.unit_of_work(uow) as work:
            told = 0
            for sku in skus:
                stock = work.find(stock_id_for(sku), Stock)
                if stock is not None:
                    told += stock.tell_channels(
                        self.levels_for_channels(stock, work, self.app.channel_rules)
                    )
            return told

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
