"""Locations: registering the places that hold stock, and opening or closing them for routing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from services.inventory_service.application.allocation import location_of
from services.inventory_service.domain import (
    Location,
    LocationConflictError,
    PostalAddress,
    location_id_for,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    # Named as a string by the base class below (the package imports this module).
    from services.inventory_service.application import Inventory  # noqa: F401


class Locations(UseCases["Inventory"]):
    """Register a location once; open or close it for routing new reservations."""

    @use_case
    def register(
        self,
        location_id: str,
        name: str,
        country: str,
        priority: int,
        uow: UnitOfWork | None = None,
    ) -> tuple[Location, bool]:
        """Register a location; (location, created). The same data again changes nothing."""
        with self.app.unit_of_work(uow) as work:
            location = work.find(location_id_for(location_id), Location)
            if location is not None:
                if not location.same_as(name, country, priority):
                    raise LocationConflictError(
                        f"location {location_id} exists as {location.name!r}, {location.country},"
                        f" priority {location.priority}"
                    )
                return location, False
            location = Location(
                location_id=location_id, name=name, country=country, priority=priority
            )
            work.add(location)
            return location, True

    def inactive(self, location_ids: Iterable[str]) -> frozenset[str]:
        """Which of these locations are closed (deactivated): their stock is promised nowhere."""
        with self.app.unit_of_work() as work:
            found = (work.find(location_id_for(loc), Location) for loc in location_ids)
            return frozenset(loc.location_id for loc in found if loc is not None and not loc.active)

    @use_case
    def set_active(self, location_id: str, active: bool, uow: UnitOfWork | None = None) -> Location:
        """Open or close a location for routing new reservations."""
        with self.app.unit_of_work(uow) as work:
            location = location_of(work, location_id)
            location.set_active(active)
            return location

    @use_case
    def set_address(
        self,
        location_id: str,
        address: PostalAddress,
        latitude: float | None,
        longitude: float | None,
        uow: UnitOfWork | None = None,
    ) -> Location:
        """Set where a location is; its country must stay the location's."""
        with self.app.unit_of_work(uow) as work:
            location = location_of(work, location_id)
            if address["country"] != location.country:
                raise LocationConflictError(
                    f"location {location_id} is in {location.country}, the address in"
                    f" {address['country']}"
                )
            location.set_address(address, latitude, longitude)
            return location
