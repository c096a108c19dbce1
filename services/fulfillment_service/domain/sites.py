"""Where each location is: its ship-from address, as inventory publishes it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.fulfillment_service.domain.ids import location_address_id_for
from services.fulfillment_service.domain.values import Address


class LocationAddress(Aggregate):
    """A location's ship-from address (fulfillment's own copy of inventory's fact)."""

    class Known(Aggregate.Created):
        """Inventory told where the location is (fulfillment heard of it first)."""

        location_id: str
        address: Address

    class Changed(Aggregate.Event):
        """The location's address changed."""

        location_id: str
        address: Address

    @event(Known)
    def __init__(self, location_id: str, address: Address) -> None:
        self.location_id = location_id
        self.address = address

    @staticmethod
    def create_id(location_id: str, **_: Any) -> UUID:
        """The id is derived from the location."""
        return location_address_id_for(location_id)

    def change(self, address: Address) -> bool:
        """The location's address is now this one; the same address again changes nothing."""
        if address == self.address:
            return False
        self._changed(location_id=self.location_id, address=address)
        return True

    @event(Changed)
    def _changed(self, location_id: str, address: Address) -> None:
        self.address = address
