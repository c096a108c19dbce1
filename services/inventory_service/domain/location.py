"""Locations that hold stock: their priority, address and coordinates (routing: routing.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inventory_service.domain.base import (
    Line,
    PostalAddress,
    location_id_for,
)
from services.inventory_service.domain.routing import Point, Site


class Location(Aggregate):
    """A place that holds stock; lower priority numbers are preferred when routing."""

    class Registered(Aggregate.Created):
        location_id: str
        name: str
        country: str
        priority: int

    class Activated(Aggregate.Event):
        location_id: str

    class Deactivated(Aggregate.Event):
        location_id: str

    class AddressChanged(Aggregate.Event):
        """Where the location is: its postal address (ship-from) and, if known, coordinates."""

        location_id: str
        address: PostalAddress
        latitude: float | None
        longitude: float | None

    @event(Registered)
    def __init__(self, location_id: str, name: str, country: str, priority: int) -> None:
        self.location_id = location_id
        self.name = name
        self.country = country
        self.priority = priority
        self.active = True
        self.address: PostalAddress | None = None
        self.latitude: float | None = None
        self.longitude: float | None = None

    @staticmethod
    def create_id(location_id: str, **_: object) -> UUID:
        """Registering the same location id twice addresses the same aggregate."""
        return location_id_for(location_id)

    def same_as(self, name: str, country: str, priority: int) -> bool:
        """Whether a repeated registration carries the same data."""
        return (self.name, self.country, self.priority) == (name, country, priority)

    def set_active(self, active: bool) -> None:
        """Open or close the location for routing; repeating changes nothing."""
        if active and not self.active:
            self._activated(location_id=self.location_id)
        elif not active and self.active:
            self._deactivated(location_id=self.location_id)

    def set_address(
        self, address: PostalAddress, latitude: float | None, longitude: float | None
    ) -> bool:
        """Record where the location is; the same address again changes nothing."""
        if (self.address, self.latitude, self.longitude) == (address, latitude, longitude):
            return False
        self._address_changed(
            location_id=self.location_id, address=address, latitude=latitude, longitude=longitude
        )
        return True

    @event(AddressChanged)
    def _address_changed(
        self,
        location_id: str,
        address: PostalAddress,
        latitude: float | None,
        longitude: float | None,
    ) -> None:
        self.address = address.copy()
        self.latitude = latitude
        self.longitude = longitude

    def site(self, centroid: Point | None) -> Site:
        """The location as routing sees it: its own coordinates, else the given centroid."""
        point = centroid
        if self.latitude is not None and self.longitude is not None:
            point = (self.latitude, self.longitude)
        return Site(self.location_id, self.country, self.priority, point)

    @event(Activated)
    def _activated(self, location_id: str) -> None:
        self.active = True

    @event(Deactivated)
    def _deactivated(self, location_id: str) -> None:
        self.active = False


def merge_lines(lines: Iterable[Line]) -> dict[str, int]:
    """Units per SKU, duplicate lines of a SKU added up."""
    total: Counter[str] = Counter()
    for line in lines:
        total[line["sku"]] += line["quantity"]
    return dict(total)
