"""What a channel is told in a stock push: the channel's ATP of one SKU, whole and per location."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.channel_gateway.channels.http import PermanentChannelError


class NotListedError(PermanentChannelError):
    """The channel does not sell the SKU (no product, listing or item with it): nothing to tell."""


@dataclass(frozen=True)
class StockPush:
    """Set the channel's stock of a SKU to what it may sell (absolute, so a repeat is harmless).

    `channel_skus` are the channel's SKUs for our `sku` (its SKU mapping, or ours); `locations`
    split `available` over our locations (inventory's split); `key` is unique per value pushed,
    for channels that take an idempotency key.
    """

    sku: str
    channel_skus: tuple[str, ...]
    available: int
    locations: dict[str, int] = field(default_factory=dict)
    key: str = ""

    def share_of(self, channel_sku: str) -> tuple[int, dict[str, int]]:
        """What one of the channel's SKUs may sell, whole and per location: several listings
        of one SKU split the figure (the first ones take the remainder), so that together they
        never offer more than there is."""
        listings = sorted(self.channel_skus)
        index, count = listings.index(channel_sku), len(listings)
        per_location = {loc: _part(units, index, count) for loc, units in self.locations.items()}
        return _part(self.available, index, count), per_location


def _part(units: int, index: int, count: int) -> int:
    """The index-th of `count` near-equal parts of the units (the first ones one larger)."""
    units = max(0, units)
    return units // count + (1 if index < units % count else 0)
