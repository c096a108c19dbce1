"""Available to promise (ATP): what a location, and a sales channel, may still sell.

Per location: on hand - reserved - missing - safety stock, never below 0. Per channel: the
ATP of the locations that serve it, minus its buffer, capped by its allocation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypedDict

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


ANY_CHANNEL = "*"
"""The name under which channels tell the ATP of every channel not configured."""


class ChannelLevel(TypedDict):
    """What one channel may sell of a SKU, and the same units split over its locations."""

    available: int
    locations: dict[str, int]


def channel_level(per_location: Mapping[str, int], rule: ChannelRule) -> ChannelLevel:
    """The channel's ATP and its split: the locations with most ATP are filled first (so the
    buffer comes off the smallest); every location serving the channel is named, even at 0,
    so a channel that keeps stock per location hears when one runs dry."""
    served = sorted(
        ((loc, atp) for loc, atp in per_location.items() if rule.serves(loc)),
        key=lambda item: (-item[1], item[0]),
    )
    total = rule.sellable(sum(atp for _, atp in served))
    left = total
    split: dict[str, int] = {}
    for loc, atp in served:
        split[loc] = min(atp, left)
        left -= split[loc]
    return {"available": total, "locations": split}


def channel_levels(
    per_location: Mapping[str, int], inactive: Iterable[str], rules: Mapping[str, ChannelRule]
) -> dict[str, ChannelLevel]:
    """What every configured channel, and any other (ANY_CHANNEL), may sell of a SKU; a closed
    location is there at 0, so per-location channels are told it sells nothing now."""
    closed = frozenset(inactive)
    atp = {loc: 0 if loc in closed else units for loc, units in per_location.items()}
    levels = {name: channel_level(atp, rule) for name, rule in rules.items()}
    levels[ANY_CHANNEL] = channel_level(atp, NO_RULE)
    return levels
