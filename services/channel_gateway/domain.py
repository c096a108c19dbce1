"""The ChannelOrder aggregate: a channel's order as received, and what the OMS reported back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

ACCEPTED = "accepted"
CANCELLED = "cancelled"

# The same namespace and name as the order service's, so both derive the same order id.
ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/orders")


class ChannelOrderError(Exception):
    """Base of channel gateway domain errors."""


class ChannelOrderNotFoundError(ChannelOrderError):
    """No channel order has this id."""


class InvalidChannelOrderError(ChannelOrderError):
    """The canonical order breaks a rule every order must keep (e.g. a SKU twice)."""


def order_id_for(channel: str, external_id: str) -> UUID:
    """The order id derived from the channel's own id, so intake is idempotent."""
    return uuid5(ORDER_NAMESPACE, f"{channel}:{external_id}")


class ChannelOrder(Aggregate):
    """One channel order: the canonical order as received, plus shipments, cancel and refunds."""

    @classmethod
    def receive(
        cls,
        channel: str,
        external_id: str,
        customer: dict[str, Any],
        shipping_address: dict[str, Any],
        lines: list[dict[str, Any]],
        currency: str,
    ) -> ChannelOrder:
        """Take in a canonical order; its id derives from channel + external id."""
        _check_order(channel, external_id, lines)
        return cls(
            order_id=order_id_for(channel, external_id),
            channel=channel,
            external_id=external_id,
            customer=customer,
            shipping_address=shipping_address,
            lines=lines,
            currency=currency,
        )

    @event("Received")
    def __init__(
        self,
        order_id: UUID,
        channel: str,
        external_id: str,
        customer: dict[str, Any],
        shipping_address: dict[str, Any],
        lines: list[dict[str, Any]],
        currency: str,
    ) -> None:
        # The event carries the whole canonical order, so the public event maps from it alone.
        self.channel = channel
        self.external_id = external_id
        self.customer = customer
        self.shipping_address = shipping_address
        self.lines = lines
        self.currency = currency
        self.status = ACCEPTED
        self.shipments: list[dict[str, Any]] = []
        self.cancellation: dict[str, Any] | None = None
        self.refunds: list[dict[str, Any]] = []

    @staticmethod
    def create_id(order_id: UUID, **_: Any) -> UUID:
        """The id is chosen outside (derived from channel + external id)."""
        return order_id

    @property
    def refunded_total(self) -> Decimal:
        """Money refunded so far."""
        return sum((Decimal(r["amount"]) for r in self.refunds), Decimal(0))

    def record_shipment(
        self,
        shipment_id: str,
        carrier: str,
        tracking_number: str,
        location_id: str,
        lines: list[dict[str, Any]],
        shipped_at: str,
    ) -> bool:
        """A shipment left with a carrier and tracking number; each shipment counts once."""
        if any(s["shipment_id"] == shipment_id for s in self.shipments):
            return False
        self._shipment_recorded(
            shipment={
                "shipment_id": shipment_id,
                "carrier": carrier,
                "tracking_number": tracking_number,
                "location_id": location_id,
                "lines": lines,
                "shipped_at": shipped_at,
            }
        )
        return True

    @event("ShipmentRecorded")
    def _shipment_recorded(self, shipment: dict[str, Any]) -> None:
        self.shipments = [*self.shipments, shipment]

    def record_cancellation(self, reason: str, cancelled_at: str) -> bool:
        """The OMS cancelled the order; a second notice changes nothing."""
        if self.status == CANCELLED:
            return False
        self._cancelled(reason=reason, cancelled_at=cancelled_at)
        return True

    @event("Cancelled")
    def _cancelled(self, reason: str, cancelled_at: str) -> None:
        self.cancellation = {"reason": reason, "cancelled_at": cancelled_at}
        self.status = CANCELLED

    def record_refund(
        self, refund_id: str, amount: Decimal, currency: str, refunded_at: str
    ) -> bool:
        """Money went back to the customer; each refund counts once."""
        if any(r["refund_id"] == refund_id for r in self.refunds):
            return False
        self._refund_recorded(
            refund={
                "refund_id": refund_id,
                "amount": format(amount, "f"),  # exact, and never 1E+3
                "currency": currency,
                "refunded_at": refunded_at,
            }
        )
        return True

    @event("RefundRecorded")
    def _refund_recorded(self, refund: dict[str, Any]) -> None:
        self.refunds = [*self.refunds, refund]


def _check_order(channel: str, external_id: str, lines: list[dict[str, Any]]) -> None:
    if not channel or not external_id:
        raise InvalidChannelOrderError("channel and external_id must not be empty")
    if not lines:
        raise InvalidChannelOrderError("an order needs at least one line")
    seen: set[str] = set()
    for line in lines:
        if line["sku"] in seen:
            raise InvalidChannelOrderError(f"SKU {line['sku']} appears on more than one line")
        seen.add(line["sku"])
        if int(line["quantity"]) <= 0:
            raise InvalidChannelOrderError(f"quantity of SKU {line['sku']} must be positive")
