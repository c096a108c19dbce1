"""Routing configuration: the ordered rules, each channel's locations, splits and partial
policy, and the centroid table that places addresses without coordinates."""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from importlib import resources

from services.inventory_service.domain import (
    DEFAULT_RULES,
    NO_CENTROIDS,
    Centroids,
    ChannelRules,
    Destination,
    Point,
    Policy,
)

CENTROIDS_FILE = "centroids.csv"


@dataclass(frozen=True)
class Routing:
    """How the service routes: rules in order, channel rules, centroids."""

    rules: tuple[str, ...] = DEFAULT_RULES
    channels: ChannelRules = field(default_factory=ChannelRules)
    centroids: Centroids = NO_CENTROIDS

    def policy(self, channel: str | None) -> Policy:
        """The policy of an order of this channel (None: before channels were recorded)."""
        rule = self.channels.of(channel) if channel is not None else self.channels.of("")
        return Policy(
            rules=self.rules, allowed=rule.locations, splits=rule.splits, partial=rule.partial
        )

    def destination(self, country: str | None, postal_code: str | None) -> Destination:
        """Where an order goes, placed by its postal code or country."""
        return Destination(country, self.centroids.locate(country, postal_code))


DEFAULT_ROUTING = Routing()


@functools.cache
def bundled_centroids() -> Centroids:
    """The centroid table shipped with the service: every country, some postal prefixes."""
    text = resources.files("services.inventory_service").joinpath("data", CENTROIDS_FILE)
    return parse_centroids(text.read_text(encoding="utf-8"))


def parse_centroids(text: str) -> Centroids:
    """A centroid table from CSV: country, postal_prefix (empty: the country), lat, lon."""
    countries: dict[str, Point] = {}
    postal: dict[str, dict[str, Point]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        point = (float(row["latitude"]), float(row["longitude"]))
        if row["postal_prefix"]:
            postal.setdefault(row["country"], {})[row["postal_prefix"]] = point
        else:
            countries[row["country"]] = point
    return Centroids(countries, postal)
