"""The Order aggregate: lines, ship-to, status and what happened to it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

PLACED = "placed"
CONFIRMED = "confirmed"
BACKORDERED = "backordered"
PARTIALLY_SHIPPED = "partially_shipped"
SHIPPED = "shipped"
PARTIALLY_RETURNED = "partially_returned"
RETURNED = "returned"
CANCELLED = "cancelled"

CANCELLABLE = frozenset({PLACED, CONFIRMED, BACKORDERED})
DONE_SHIPPING = frozenset({SHIPPED, PARTIALLY_RETURNED, RETURNED})
AWAITING_STOCK = frozenset({PLACED, BACKORDERED})
ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/orders")


class OrderError(Exception):
    """Base of order domain errors."""


class OrderNotFoundError(OrderError):
    """No order has this id."""


class OrderNotCancellableError(OrderError):
    """The order has shipped (in part or in full) and can no longer be cancelled."""


def order_id_for(channel: str, external_id: str) -> UUID:
    """The order id derived from the channel's own id, so intake is idempotent."""
    return uuid5(ORDER_NAMESPACE, f"{channel}:{external_id}")


class Order(Aggregate):
    """A customer's order from one channel, followed from placement to refund."""

    @event("Placed")
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
        self.channel = channel
        self.external_id = external_id
        self.customer = customer
        self.shipping_address = shipping_address
        self.lines = lines
        self.currency = currency
        self.status = PLACED
        self.allocations: list[dict[str, Any]] = []
        self.shipments: list[dict[str, Any]] = []
        self.returned: dict[str, int] = {}
        self.return_ids: list[str] = []
        self.refunds: dict[str, str] = {}
        self.short: dict[str, int] = {}  # sku -> units a picker did not find
        self.short_picks: list[str] = []  # pick list:shipment keys already recorded

    @staticmethod
    def create_id(order_id: UUID, **_: Any) -> UUID:
        """The id is chosen outside (derived from channel + external id)."""
        return order_id

    @property
    def ordered(self) -> Counter[str]:
        """Units ordered per SKU."""
        total: Counter[str] = Counter()
        for line in self.lines:
            total[line["sku"]] += int(line["quantity"])
        return total

    @property
    def shipped_units(self) -> Counter[str]:
        """Units shipped so far per SKU."""
        total: Counter[str] = Counter()
        for shipment in self.shipments:
            for line in shipment["lines"]:
                total[line["sku"]] += int(line["quantity"])
        return total

    @property
    def refunded_total(self) -> Decimal:
        """Money refunded so far."""
        return sum((Decimal(a) for a in self.refunds.values()), Decimal(0))

    def confirm(self, allocations: list[dict[str, Any]]) -> None:
        """Stock is reserved: the order can be fulfilled (ignored unless awaiting stock)."""
        if self.status in AWAITING_STOCK:
            # The event carries what fulfillment needs, so the public event maps from it alone.
            self._confirmed(
                allocations=allocations,
                customer=self.customer,
                shipping_address=self.shipping_address,
                lines=self.lines,
                channel=self.channel,
                external_id=self.external_id,
                placed_at=self.created_on,
            )

    @event("Confirmed")
    def _confirmed(
        self,
        allocations: list[dict[str, Any]],
        customer: dict[str, Any],
        shipping_address: dict[str, Any],
        lines: list[dict[str, Any]],
        channel: str | None = None,
        external_id: str | None = None,
        placed_at: datetime | None = None,
    ) -> None:
        self.allocations = allocations
        self.status = CONFIRMED

    def backorder(self, shortages: list[dict[str, Any]]) -> None:
        """Not enough stock: the order waits for stock (ignored unless just placed)."""
        if self.status == PLACED:
            self._backordered(shortages=shortages)

    @event("Backordered")
    def _backordered(self, shortages: list[dict[str, Any]]) -> None:
        self.status = BACKORDERED

    def cancel(self, reason: str) -> bool:
        """Cancel before anything shipped; cancelling twice changes nothing."""
        if self.status == CANCELLED:
            return False
        if self.status not in CANCELLABLE:
            raise OrderNotCancellableError(
                f"order {self.id} is {self.status} and cannot be cancelled"
            )
        self._cancelled(reason=reason, channel=self.channel, external_id=self.external_id)
        return True

    @event("Cancelled")
    def _cancelled(self, reason: str, channel: str, external_id: str) -> None:
        self.status = CANCELLED

    def record_shipment(self, shipment: dict[str, Any]) -> None:
        """A shipment left; when every ordered unit has left or was short, the order is shipped."""
        if any(s["shipment_id"] == shipment["shipment_id"] for s in self.shipments):
            return
        keep = self.status == CANCELLED or self.status in DONE_SHIPPING
        status = self.status if keep else PARTIALLY_SHIPPED
        self._shipment_recorded(shipment=shipment, status=status)
        self._ship_if_complete()

    def record_short_pick(
        self, shipment_id: str, pick_list_id: str, location_id: str, lines: list[dict[str, Any]]
    ) -> None:
        """A picker found fewer units than a shipment needs: an exception ops see on the order.

        The short units will not ship with this order (inventory releases them), so they count
        towards completion: the order never waits for units nobody is going to pick.
        """
        key = f"{pick_list_id}:{shipment_id}"
        short_lines = [
            {**line, "quantity": line["expected"] - line["picked"]}
            for line in lines
            if line["picked"] < line["expected"]
        ]
        if key in self.short_picks or not short_lines:
            return
        short = Counter(self.short)
        for line in short_lines:
            short[line["sku"]] += line["quantity"]
        self._short_picked(
            shipment_id=shipment_id,
            pick_list_id=pick_list_id,
            location_id=location_id,
            lines=short_lines,
            short=dict(short),
        )
        self._ship_if_complete()

    @event("ShortPicked")
    def _short_picked(
        self,
        shipment_id: str,
        pick_list_id: str,
        location_id: str,
        lines: list[dict[str, Any]],
        short: dict[str, int],
    ) -> None:
        self.short = dict(short)
        self.short_picks = [*self.short_picks, f"{pick_list_id}:{shipment_id}"]

    def _ship_if_complete(self) -> None:
        """Shipped once every ordered unit shipped or was short, and at least one shipped."""
        if self.status in DONE_SHIPPING or not self.shipments:
            return
        accounted = self.shipped_units + Counter(self.short)
        if any(accounted[sku] < quantity for sku, quantity in self.ordered.items()):
            return
        lines = self._shipped_lines()
        if lines:  # shipments of only unordered SKUs make nothing returnable
            self._shipped(
                lines=lines,
                shipments=self.shipments,
                currency=self.currency,
                short=dict(self.short),
            )

    def _shipped_lines(self) -> list[dict[str, Any]]:
        """The ordered lines cut to what actually shipped (all that can be returned)."""
        left = self.shipped_units
        lines = []
        for line in self.lines:
            quantity = min(int(line["quantity"]), left[line["sku"]])
            if quantity > 0:
                lines.append({**line, "quantity": quantity})
                left[line["sku"]] -= quantity
        return lines

    @event("ShipmentRecorded")
    def _shipment_recorded(self, shipment: dict[str, Any], status: str) -> None:
        self.shipments = [*self.shipments, shipment]
        self.status = status

    @event("Shipped")
    def _shipped(
        self,
        lines: list[dict[str, Any]],
        shipments: list[dict[str, Any]],
        currency: str,
        short: dict[str, int] | None = None,
    ) -> None:
        self.status = SHIPPED

    def record_return(self, return_id: str, lines: list[dict[str, Any]]) -> None:
        """Units came back from the customer; each return counts once."""
        if return_id in self.return_ids:
            return
        returned = Counter(self.returned)
        for line in lines:
            returned[line["sku"]] += int(line["quantity"])
        status = RETURNED if returned >= self.shipped_units else PARTIALLY_RETURNED
        self._return_received(return_id=return_id, lines=lines, status=status)

    @event("ReturnReceived")
    def _return_received(self, return_id: str, lines: list[dict[str, Any]], status: str) -> None:
        returned = Counter(self.returned)
        for line in lines:
            returned[line["sku"]] += int(line["quantity"])
        self.returned = dict(returned)
        self.return_ids = [*self.return_ids, return_id]
        self.status = status

    def record_refund(self, refund_id: str, amount: Decimal) -> None:
        """Money went back to the customer; each refund counts once."""
        if refund_id not in self.refunds:
            self._refunded(refund_id=refund_id, amount=str(amount))

    @event("Refunded")
    def _refunded(self, refund_id: str, amount: str) -> None:
        self.refunds = {**self.refunds, refund_id: amount}
