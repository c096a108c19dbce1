"""The index of one order's shipments, and what the warehouse prints about the order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.fulfillment_service.domain.ids import order_shipments_id_for
from services.fulfillment_service.domain.values import CashOnDelivery, OrderRef


class OrderShipments(Aggregate):
    """The shipments of one order, and whether the order was cancelled (even before confirming)."""

    class Registered(Aggregate.Created):
        """Fulfillment heard of the order for the first time."""

        order_id: UUID
        order_ref: OrderRef | None = None

    class Described(Aggregate.Event):
        """The order's number and date became known."""

        order_ref: OrderRef

    class Confirmed(Aggregate.Event):
        """The order's shipments were created."""

        shipment_ids: list[str]

    class Cancelled(Aggregate.Event):
        """The order was cancelled."""

        reason: str

    class PartAdded(Aggregate.Event):
        """Units sourced again after a short pick got shipments of their own."""

        part: str
        shipment_ids: list[str]

    class Reopened(Aggregate.Event):
        """The order's lines were edited: its open shipments were cancelled, and its next
        confirmation creates the shipments of the new lines."""

        revision: int
        replaced: list[str]  # the shipments cancelled for the edit

    class CashOnDeliveryOwed(Aggregate.Event):
        """The order is paid on delivery: the carrier collects this amount (minor units)."""

        amount: str
        currency: str

    class CashOnDeliveryAssigned(Aggregate.Event):
        """The shipment whose carrier collects the order's cash on delivery (once per order)."""

        shipment_id: str

    @event(Registered)
    def __init__(self, order_id: UUID, order_ref: OrderRef | None = None) -> None:
        self.order_id = order_id
        # Channel, external id (the order number the customer knows) and when it was placed.
        self.order_ref: OrderRef = order_ref or {}
        self.shipment_ids: list[str] = []
        self.confirmed = False
        self.cancelled = False
        self.revision = 0  # the order's edits taken in
        self.parts: list[str] = []  # follow-up parts whose shipments were created
        # What the buyer pays the carrier on delivery (None: paid before, nothing to collect),
        # and the one shipment whose carrier collects it.
        self.cash_on_delivery: CashOnDelivery | None = None
        self.collecting_shipment_id: str | None = None

    @staticmethod
    def create_id(order_id: UUID, **_: Any) -> UUID:
        """The id is derived from the order."""
        return order_shipments_id_for(order_id)

    @property
    def awaits_confirmation(self) -> bool:
        """Whether a confirmation of the order should still create shipments."""
        return not (self.confirmed or self.cancelled)

    def describe(self, order_ref: OrderRef) -> bool:
        """Remember the order's number and date, once (a redelivery changes nothing)."""
        if self.order_ref:
            return False
        self._described(order_ref=order_ref)
        return True

    @event(Described)
    def _described(self, order_ref: OrderRef) -> None:
        self.order_ref = order_ref

    def confirm(self, shipment_ids: list[UUID]) -> bool:
        """The order's shipments were created; a second confirmation changes nothing."""
        if not self.awaits_confirmation:
            return False
        self._confirmed(shipment_ids=[str(i) for i in shipment_ids])
        return True

    @event(Confirmed)
    def _confirmed(self, shipment_ids: list[str]) -> None:
        self.shipment_ids = shipment_ids
        self.confirmed = True

    def add_part(self, part: str, shipment_ids: list[UUID]) -> bool:
        """A follow-up part's shipments were created; each part once, none once cancelled."""
        if self.cancelled or part in self.parts:
            return False
        self._part_added(part=part, shipment_ids=[str(i) for i in shipment_ids])
        return True

    @event(PartAdded)
    def _part_added(self, part: str, shipment_ids: list[str]) -> None:
        self.parts = [*self.parts, part]
        self.shipment_ids = [*self.shipment_ids, *shipment_ids]

    def takes_part(self, part: str) -> bool:
        """Whether a follow-up part should still get its shipments."""
        return not self.cancelled and part not in self.parts

    def reopen(self, revision: int, replaced: list[UUID]) -> bool:
        """An edit of the order replaced its shipments; each edit once, never once cancelled."""
        if self.cancelled or revision <= self.revision:
            return False
        self._reopened(revision=revision, replaced=[str(i) for i in replaced])
        return True

    @event(Reopened)
    def _reopened(self, revision: int, replaced: list[str]) -> None:
        self.revision = revision
        self.shipment_ids = [i for i in self.shipment_ids if i not in replaced]
        self.confirmed = False

    def cancel(self, reason: str) -> bool:
        """The order was cancelled; remembered so that a late confirmation creates nothing."""
        if self.cancelled:
            return False
        self._cancelled(reason=reason)
        return True

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.cancelled = True

    def owe_on_delivery(self, amount: Decimal, currency: str) -> bool:
        """The order is paid on delivery, this much; the same amount told again changes nothing."""
        if amount < 0:
            raise ValueError(f"cash on delivery cannot be negative: {amount} {currency}")
        owed = CashOnDelivery(amount=format(amount, "f"), currency=currency)
        if owed == self.cash_on_delivery:
            return False
        self._cash_on_delivery_owed(amount=owed["amount"], currency=currency)
        return True

    @event(CashOnDeliveryOwed)
    def _cash_on_delivery_owed(self, amount: str, currency: str) -> None:
        self.cash_on_delivery = CashOnDelivery(amount=amount, currency=currency)

    def to_collect(self, shipment_id: UUID) -> CashOnDelivery | None:
        """What this shipment's carrier must collect: the order's whole cash on delivery when it
        is the first shipment to leave (or the one chosen before), else nothing."""
        owed = self.cash_on_delivery
        if owed is None or Decimal(owed["amount"]) == 0:
            return None
        if self.collecting_shipment_id not in (None, str(shipment_id)):
            return None
        return owed

    def collect_with(self, shipment_id: UUID) -> CashOnDelivery | None:
        """Choose this shipment to collect the order's cash on delivery (see `to_collect`)."""
        owed = self.to_collect(shipment_id)
        if owed is not None and self.collecting_shipment_id is None:
            self._cash_on_delivery_assigned(shipment_id=str(shipment_id))
        return owed

    @event(CashOnDeliveryAssigned)
    def _cash_on_delivery_assigned(self, shipment_id: str) -> None:
        self.collecting_shipment_id = shipment_id
