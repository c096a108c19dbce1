"""Available to promise (ATP): what a location, and a sales channel, may still sell.

Per location: on hand - reserved - missing - safety stock, never below 0. Per channel: the
ATP of the locations that serve it, minus its buffer, capped by its allocation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.inventory_service.domain.routing import PartialPolicy


@dataclass(frozen=True)
class ChannelRule:
    """What a channel may sell: its locations (None: all open ones), buffer and allocation;
    and how its orders are routed: whether they may split, what happens when stock is short."""

    locations: frozenset[str] | None = None
    buffer_units: int = 0
    buffer_percent: int = 0
    allocation: int | None = None
    splits: bool = True
    partial: PartialPolicy = PartialPolicy.WAIT_ALL

    def serves(self, location_id: str) -> bool:
        """Whether the channel sells from this location."""
        return self.locations is None or location_id in self.locations

    def sellable(self, atp: int) -> int:
        """The channel's share of this ATP: less both buffers (percent rounded up, so the
        channel is told less), capped by the allocation, never below 0."""
        buffered = atp - self.buffer_units - (atp * self.buffer_percent + 99) // 100
        if self.allocation is not None:
            buffered = min(buffered, self.allocation)
        return max(0, buffered)


NO_RULE = ChannelRule()
"""A channel without configuration: every open location, no buffer, no cap."""


class ChannelRules(dict[str, ChannelRule]):
    """The ATP rule of each configured channel (what the API depends on)."""

    def of(self, channel: str) -> ChannelRule:
        """The channel's rule; an unconfigured channel sells everything open."""
        return self.get(channel, NO_RULE)


def location_atp(available: int, safety: int) -> int:
    """What one location may tell channels: available (on hand - reserved - missing) less
    safety stock, never below 0."""
    return max(0, available - safety)


def channel_atp(per_location: Mapping[str, int], rule: ChannelRule) -> int:
    """What a channel may sell: the ATP of its locations, less its buffer, capped."""
    return rule.sellable(sum(atp for loc, atp in per_location.items() if rule.serves(loc)))


def open_atp(per_location: Mapping[str, int], inactive: Iterable[str]) -> dict[str, int]:
    """ATP of the open locations only: a closed location counts nowhere."""
    closed = frozenset(inactive)
    return {loc: atp for loc, atp in per_location.items() if loc not in closed}
