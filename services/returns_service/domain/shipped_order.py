"""ShippedOrder: what an order shipped, at what price and from where."""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_DOWN, Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.returns_service.domain.errors import ReturnQuantityError, SkuNotShippedError
from services.returns_service.domain.values import (
    ZERO,
    Amount,
    Condition,
    OrderLine,
    ReceiptLine,
    ReceivedLine,
    RefundLine,
    ReturnLine,
    Settlement,
    Shipment,
    units_per_sku,
)
from shared.money import money, step

SHIPPED_ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/returns/shipped-orders")


def shipped_order_id_for(order_id: UUID) -> UUID:
    """The ShippedOrder id of an order, so a redelivered OrderShipped finds the same one."""
    return uuid5(SHIPPED_ORDER_NAMESPACE, str(order_id))


class ShippedOrder(Aggregate):
    """What an order shipped, at what price and from where: the limits of its returns."""

    class Recorded(Aggregate.Created):
        """An order shipped in full: its units may now be returned."""

        order_id: UUID
        currency: str
        lines: list[OrderLine]
        shipments: list[Shipment]

    class ReturnAuthorised(Aggregate.Event):
        """Shipped units were reserved for a return (ids as strings, as they were stored)."""

        return_id: str
        units: dict[str, int]

    class ReceiptSettled(Aggregate.Event):
        """Received units were given a location to go back to and a refund."""

        return_id: str
        sequence: int
        lines: list[ReceivedLine]
        refund_lines: list[RefundLine]
        amount: Amount
        full_amount: Amount
        capped: bool
        currency: str

    @event(Recorded)
    def __init__(
        self, order_id: UUID, currency: str, lines: list[OrderLine], shipments: list[Shipment]
    ) -> None:
        self.order_id = order_id
        self.currency = currency
        self.lines = lines
        self.shipments = shipments
        self.authorised: dict[str, dict[str, int]] = {}
        self.returned_to: Counter[tuple[str, str]] = Counter()
        self.refunded: dict[str, Decimal] = {}

    @staticmethod
    def create_id(order_id: UUID, **_: object) -> UUID:
        """Derived from the order id: one per order, however often OrderShipped arrives."""
        return shipped_order_id_for(order_id)

    @property
    def shipped(self) -> Counter[str]:
        """Units that left per SKU."""
        return units_per_sku([line for s in self.shipments for line in s["lines"]])

    @property
    def requested(self) -> Counter[str]:
        """Units per SKU on the order's returns so far."""
        total: Counter[str] = Counter()
        for units in self.authorised.values():
            total.update(units)
        return total

    def returnable(self, sku: str) -> int:
        """Units of a SKU that a new return may still ask for."""
        return max(0, self.shipped[sku] - self.requested[sku])

    def paid(self, sku: str) -> Decimal:
        """What the customer paid for all units of a SKU: each line's `paid` (after its discounts,
        with its taxes when prices exclude them) where the channel told it, else its price."""
        return sum((_line_paid(line) for line in self.lines if line["sku"] == sku), Decimal(0))

    def unit_price(self, sku: str) -> Decimal:
        """The price of one unit (the average when the SKU was on several lines)."""
        ordered = units_per_sku(self.lines)[sku]
        return self._money(self.paid(sku) / ordered) if ordered else self._money(ZERO)

    def authorise_return(self, return_id: UUID, lines: list[ReturnLine]) -> None:
        """Reserve shipped units for a return; a SKU or quantity not available is refused."""
        if str(return_id) in self.authorised:
            return
        wanted = units_per_sku(lines)
        for sku, quantity in wanted.items():
            if self.shipped[sku] == 0:
                raise SkuNotShippedError(sku, 0, f"SKU {sku} was not shipped with this order")
            if quantity > self.returnable(sku):
                available = self.returnable(sku)
                raise ReturnQuantityError(
                    sku, available, f"SKU {sku}: {quantity} asked, {available} returnable"
                )
        self._return_authorised(return_id=str(return_id), units=dict(wanted))

    @event(ReturnAuthorised)
    def _return_authorised(self, return_id: str, units: dict[str, int]) -> None:
        self.authorised = {**self.authorised, return_id: units}

    def settle_receipt(
        self, return_id: UUID, sequence: int, lines: list[ReceiptLine]
    ) -> Settlement:
        """Where received units go back to, and their refund, never above what was paid."""
        refund_lines, full_amount = self._refund_lines(units_per_sku(lines))
        amount = self._money(sum((Decimal(line["amount"]) for line in refund_lines), ZERO))
        located = self._locate(lines)
        self._receipt_settled(
            return_id=str(return_id),
            sequence=sequence,
            lines=located,
            refund_lines=refund_lines,
            amount=format(amount, "f"),
            full_amount=format(full_amount, "f"),
            capped=amount < full_amount,
            currency=self.currency,
        )
        return Settlement(
            sequence=sequence,
            lines=located,
            refund_lines=refund_lines,
            amount=format(amount, "f"),
            full_amount=format(full_amount, "f"),
            capped=amount < full_amount,
            currency=self.currency,
        )

    @event(ReceiptSettled)
    def _receipt_settled(
        self,
        return_id: str,
        sequence: int,
        lines: list[ReceivedLine],
        refund_lines: list[RefundLine],
        amount: Amount,
        full_amount: Amount,
        capped: bool,
        currency: str,
    ) -> None:
        returned_to = Counter(self.returned_to)
        for line in lines:
            returned_to[(line["sku"], line["location_id"])] += line["quantity"]
        refunded = dict(self.refunded)
        for refund_line in refund_lines:
            sku = refund_line["sku"]
            refunded[sku] = refunded.get(sku, ZERO) + Decimal(refund_line["amount"])
        self.returned_to = returned_to
        self.refunded = refunded

    def _sources(self, sku: str) -> list[tuple[str, int]]:
        """Locations that shipped a SKU and how many units each, in shipment order."""
        sources: dict[str, int] = {}
        for shipment in self.shipments:
            for line in shipment["lines"]:
                if line["sku"] == sku:
                    location = shipment["location_id"]
                    sources[location] = sources.get(location, 0) + line["quantity"]
        return list(sources.items())

    def _locate(self, lines: list[ReceiptLine]) -> list[ReceivedLine]:
        """Each received unit goes back to a location that shipped it and has not had it back."""
        back = Counter(self.returned_to)
        located: dict[tuple[str, Condition, str], int] = {}
        for line in lines:
            sku, remaining = line["sku"], line["quantity"]
            sources = self._sources(sku)
            for location, shipped in sources:
                take = min(remaining, shipped - back[(sku, location)])
                if take > 0:
                    key = (sku, line["condition"], location)
                    located[key] = located.get(key, 0) + take
                    back[(sku, location)] += take
                    remaining -= take
            if remaining and sources:
                # Only reachable if checks upstream were bypassed; keep every unit accounted for.
                key = (sku, line["condition"], sources[-1][0])
                located[key] = located.get(key, 0) + remaining
        return [
            ReceivedLine(sku=sku, quantity=quantity, condition=condition, location_id=location)
            for (sku, condition, location), quantity in located.items()
        ]

    def _refund_lines(self, units: Counter[str]) -> tuple[list[RefundLine], Decimal]:
        """Refund per SKU: its share of what was paid for the SKU, never more than is left.

        After n of a SKU's N units came back, n/N of what was paid for it has been refunded,
        cut down to the currency's minor unit; so refunds in parts never pass what was paid, and
        the last unit back brings the total to exactly what was paid (discounts and taxes
        included, as the line's `paid` says).
        """
        lines: list[RefundLine] = []
        full_total = self._money(ZERO)
        unit = step(self.currency)
        ordered = units_per_sku(self.lines)
        for sku, quantity in units.items():
            full = self._money(self.unit_price(sku) * quantity)
            paid, refunded = self.paid(sku), self.refunded.get(sku, ZERO)
            back = min(self._units_back(sku) + quantity, ordered[sku])
            share = paid * back / ordered[sku] if ordered[sku] else ZERO
            due = share.quantize(unit, ROUND_DOWN) - refunded
            left = (paid - refunded).quantize(unit, ROUND_DOWN)
            amount = self._money(max(ZERO, min(due, left)))
            lines.append(RefundLine(sku=sku, quantity=quantity, amount=format(amount, "f")))
            full_total += full
        return lines, full_total

    def _units_back(self, sku: str) -> int:
        """Units of a SKU received back so far (each was settled with its refund)."""
        return sum(units for (each, _), units in self.returned_to.items() if each == sku)

    def _money(self, value: Decimal) -> Decimal:
        """An amount in the order's currency's minor units (3 places for KWD, none for JPY)."""
        return money(value, self.currency)


def _line_paid(line: OrderLine) -> Decimal:
    """What was paid for a line; orders placed before amounts were kept know only the price."""
    paid = line.get("paid")
    if paid is not None:
        return Decimal(paid)
    return Decimal(line["unit_price"]) * line["quantity"]
