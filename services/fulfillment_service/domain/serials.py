"""Serial numbers issued from a counter: SSCC serial references, carrier tracking numbers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.fulfillment_service.domain.ids import serial_counter_id_for


class SerialCounter(Aggregate):
    """A sequence that never issues a number twice (gaps are fine, repeats never)."""

    class Started(Aggregate.Created):
        """The counter of one purpose was started at zero."""

        purpose: str

    class Issued(Aggregate.Event):
        """Serials up to `last` were handed out."""

        last: int

    @event(Started)
    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self.last = 0

    @staticmethod
    def create_id(purpose: str, **_: Any) -> UUID:
        """One counter per purpose."""
        return serial_counter_id_for(purpose)

    def issue(self, count: int = 1) -> list[int]:
        """The next count serials."""
        first = self.last + 1
        self._issued(last=self.last + count)
        return list(range(first, self.last + 1))

    @event(Issued)
    def _issued(self, last: int) -> None:
        self.last = last
