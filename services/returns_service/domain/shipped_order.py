"""ShippedOrder: what an order shipped, at what price and from where, and what went back of it."""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_DOWN, Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.returns_service.domain.errors import (
    AmountPlacesError,
    OverRefundError,
    RefundQuantityError,
    ReturnQuantityError,
    SkuNotShippedError,
)
from services.returns_service.domain.values import (
    ZERO,
    Amount,
    Condition,
    ItemQuantity,
    OrderLine,
    ReceiptLine,
    ReceivedLine,
    RefundKind,
    RefundLine,
    RefundReason,
    RefundSettlement,
    ReturnLine,
    Settlement,
    Shipment,
    ShortLine,
    units_per_sku,
)
from shared.money import allocate, fits, minor_units, money, step

SHIPPED_ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/returns/shipped-orders")


def shipped_order_id_for(order_id: UUID) -> UUID:
    """The ShippedOrder id of an order, so a redelivered OrderShipped finds the same one."""
    return uuid5(SHIPPED_ORDER_NAMESPACE, str(order_id))


class ShippedOrder(Aggregate):
    """What an order shipped, at what price and from where: the limits of its returns and
    refunds. Every refund of the order (a return's, or one without a return) is settled here, so
    together they never pass what was paid for the order."""

    class Recorded(Aggregate.Created):
        """An order shipped in full (or short): its units may now be returned."""

        order_id: UUID
        currency: str
        lines: list[OrderLine]
        shipments: list[Shipment]
        short_lines: list[ShortLine] | None = None  # absent on orders recorded before short picks
        shipping_paid: Amount | None = None  # absent: the channel told no shipping (or older)

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
        shipping: Amount | None = None  # the part of amount paying back shipping

    class RefundSettled(Aggregate.Event):
        """Money went back without a return: for units (shipped ones, or short ones that never
        shipped) or an amount only (whose lines only say which SKUs it is counted against)."""

        refund_id: str
        reason: str
        kind: str
        short: bool
        lines: list[RefundLine]
        amount: Amount

    class ChannelRefundCounted(Aggregate.Event):
        """Money went back at the channel, not through the OMS: counted against what can be
        refunded; the units it refunded are not returned or refunded again. `over` is what it
        took beyond what was left to refund (a fact: counted all the same)."""

        refund_id: str
        units: dict[str, int]
        by_sku: dict[str, str]
        rest: Amount  # money not on a line (shipping, taxes): counted against the order
        over: Amount

    @event(Recorded)
    def __init__(
        self,
        order_id: UUID,
        currency: str,
        lines: list[OrderLine],
        shipments: list[Shipment],
        short_lines: list[ShortLine] | None = None,
        shipping_paid: Amount | None = None,
    ) -> None:
        self.order_id = order_id
        self.shipping_paid = Decimal(shipping_paid) if shipping_paid is not None else ZERO
        self.shipping_refunded = ZERO
        self.currency = currency
        self.lines = lines
        self.shipments = shipments
        self.short_lines: list[ShortLine] = list(short_lines or [])
        self.authorised: dict[str, dict[str, int]] = {}
        self.returned_to: Counter[tuple[str, str]] = Counter()
        self.refunded: dict[str, Decimal] = {}  # per SKU, for shipped units (returned or not)
        self.written_off: Counter[str] = Counter()  # shipped units refunded without a return
        self.short_refunded: dict[str, Decimal] = {}  # per SKU, for units that never shipped
        self.short_settled: Counter[str] = Counter()  # short units refunded
        self.amount_refunded = ZERO  # refunds of an amount only, counted against the order
        self.refund_ids: list[str] = []

    @staticmethod
    def create_id(order_id: UUID, **_: object) -> UUID:
        """Derived from the order id: one per order, however often OrderShipped arrives."""
        return shipped_order_id_for(order_id)

    @property
    def shipped(self) -> Counter[str]:
        """Units that left per SKU."""
        return units_per_sku([line for s in self.shipments for line in s["lines"]])

    @property
    def short(self) -> Counter[str]:
        """Units per SKU that did not ship (short-picked)."""
        return units_per_sku(self.short_lines)

    @property
    def requested(self) -> Counter[str]:
        """Units per SKU on the order's returns so far."""
        total: Counter[str] = Counter()
        for units in self.authorised.values():
            total.update(units)
        return total

    def returnable(self, sku: str) -> int:
        """Units of a SKU that a new return (or a refund of shipped units without one) may
        still take: shipped, not on a return and not refunded without one."""
        return max(0, self.shipped[sku] - self.requested[sku] - self.written_off[sku])

    def short_refundable(self, sku: str) -> int:
        """Units of a SKU that did not ship and are not refunded yet."""
        return max(0, self.short[sku] - self.short_settled[sku])

    def paid(self, sku: str) -> Decimal:
        """What the customer paid for the shipped units of a SKU: each line's `paid` (after its
        discounts, with its taxes when prices exclude them) where the channel told it, else its
        price."""
        return sum((_line_paid(line) for line in self.lines if line["sku"] == sku), Decimal(0))

    def short_paid(self, sku: str) -> Decimal:
        """What the customer paid for the units of a SKU that did not ship."""
        return sum(
            (Decimal(line["paid"]) for line in self.short_lines if line["sku"] == sku), Decimal(0)
        )

    @property
    def paid_total(self) -> Decimal:
        """What was paid for the order: its shipped units, its short ones and shipping."""
        shipped = sum((_line_paid(line) for line in self.lines), Decimal(0))
        short = sum((Decimal(line["paid"]) for line in self.short_lines), Decimal(0))
        return shipped + short + self.shipping_paid

    @property
    def refunded_total(self) -> Decimal:
        """Every refund of the order so far: returns' and those without a return."""
        return (
            sum(self.refunded.values(), ZERO)
            + sum(self.short_refunded.values(), ZERO)
            + self.amount_refunded
            + self.shipping_refunded
        )

    @property
    def refundable(self) -> Decimal:
        """What can still be refunded for the order: what was paid less every refund, cut down
        to the currency's minor unit."""
        left = (self.paid_total - self.refunded_total).quantize(self._unit, ROUND_DOWN)
        return self._money(max(ZERO, left))

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
        self,
        return_id: UUID,
        sequence: int,
        lines: list[ReceiptLine],
        refund_shipping: bool = False,
    ) -> Settlement:
        """Where received units go back to, and their refund, never above what was paid.

        With `refund_shipping`, the receipt that brings back the last shipped unit also pays
        back what is left of what was paid for shipping (within what is left of the order).
        """
        units = units_per_sku(lines)
        refund_lines, full_amount = self._refund_lines(units)
        amount = self._money(sum((Decimal(line["amount"]) for line in refund_lines), ZERO))
        shipping = ZERO
        if refund_shipping and self._completes_return(units):
            owed = self.shipping_paid - self.shipping_refunded
            shipping = self._money(max(ZERO, min(owed, self.refundable - amount)))
            full_amount = self._money(full_amount + owed)
            amount = self._money(amount + shipping)
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
            shipping=format(shipping, "f") if shipping else None,
        )
        settlement = Settlement(
            sequence=sequence,
            lines=located,
            refund_lines=refund_lines,
            amount=format(amount, "f"),
            full_amount=format(full_amount, "f"),
            capped=amount < full_amount,
            currency=self.currency,
        )
        if shipping:
            settlement["shipping"] = format(shipping, "f")
        return settlement

    def _completes_return(self, units: Counter[str]) -> bool:
        """Whether these units bring back the last of everything the order shipped, with
        shipping paid and not yet refunded."""
        if self.shipping_paid <= self.shipping_refunded:
            return False
        back = Counter(units)
        for (sku, _location), quantity in self.returned_to.items():
            back[sku] += quantity
        return all(back[sku] >= quantity for sku, quantity in self.shipped.items())

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
        shipping: Amount | None = None,
    ) -> None:
        if shipping is not None:
            self.shipping_refunded += Decimal(shipping)
        returned_to = Counter(self.returned_to)
        for line in lines:
            returned_to[(line["sku"], line["location_id"])] += line["quantity"]
        refunded = dict(self.refunded)
        for refund_line in refund_lines:
            sku = refund_line["sku"]
            refunded[sku] = refunded.get(sku, ZERO) + Decimal(refund_line["amount"])
        self.returned_to = returned_to
        self.refunded = refunded

    # -- refunds without a return ------------------------------------------------------------

    def settle_refund(
        self,
        refund_id: UUID,
        reason: RefundReason,
        lines: list[ItemQuantity] | None = None,
        amount: Decimal | None = None,
    ) -> RefundSettlement:
        """Money back without a return, never more than is left of what was paid.

        With lines, the units are refunded from what was paid for them, as a return's would be
        (units that never shipped for a short pick, shipped ones otherwise); an amount with them
        pays back that much of it and no more. An amount alone is money only, up to what is left
        of what was paid for the order. Refused (nothing recorded): an amount with more places
        than the currency, or above what can be refunded; a SKU not on the order, or more of
        its units than are left to refund.
        """
        if amount is not None and not fits(amount, self.currency):
            places = minor_units(self.currency)
            raise AmountPlacesError(
                f"{format(amount, 'f')} has more decimal places than {self.currency} has"
                f" ({places})",
                format(self.refundable, "f"),
                self.currency,
            )
        short = reason == RefundReason.SHORT_PICK
        if lines:
            settlement = self._units_refund(lines, amount, short)
        elif amount is not None and amount > 0:
            settlement = self._amount_refund(amount)
        else:
            raise OverRefundError(
                "a refund needs units or an amount above zero",
                self._text(self.refundable),
                self.currency,
            )
        self._refund_settled(
            refund_id=str(refund_id),
            reason=reason.value,
            kind=settlement["kind"].value,
            short=settlement["short"],
            lines=settlement["lines"],
            amount=settlement["amount"],
        )
        return settlement

    def settle_short_pick(self, refund_id: UUID) -> RefundSettlement | None:
        """Refund every unit that did not ship, at what was paid for it (None: nothing short, or
        nothing paid for it that is not refunded yet)."""
        wanted = [
            ItemQuantity(sku=sku, quantity=quantity)
            for sku in self.short
            if (quantity := self.short_refundable(sku)) > 0
        ]
        worth = sum((self._due(w["sku"], w["quantity"], short=True) for w in wanted), ZERO)
        if not wanted or not worth or not self.refundable:
            return None
        return self.settle_refund(refund_id, RefundReason.SHORT_PICK, wanted)

    def _units_refund(
        self, lines: list[ItemQuantity], amount: Decimal | None, short: bool
    ) -> RefundSettlement:
        wanted = units_per_sku(lines)
        for sku, quantity in wanted.items():
            self._check_refundable_units(sku, quantity, short)
        left = self.refundable
        worth: list[RefundLine] = []
        full = ZERO
        for sku, quantity in wanted.items():
            due = self._due(sku, quantity, short)
            full += due
            take = min(due, left)
            left -= take
            worth.append(RefundLine(sku=sku, quantity=quantity, amount=format(take, "f")))
        total = self._money(sum((Decimal(line["amount"]) for line in worth), ZERO))
        if amount is None:
            if total <= 0:
                raise OverRefundError(
                    f"nothing can still be refunded for order {self.order_id}",
                    format(self.refundable, "f"),
                    self.currency,
                )
            return self._settlement(RefundKind.UNITS, short, worth, total, self._money(full))
        if amount > total:
            raise OverRefundError(
                f"{self._text(amount)} {self.currency} asked for these units, at most"
                f" {self._text(total)} {self.currency} can still be refunded for them",
                self._text(total),
                self.currency,
            )
        shares = allocate(amount, [Decimal(line["amount"]) for line in worth], self.currency)
        parts = [
            RefundLine(sku=line["sku"], quantity=line["quantity"], amount=self._text(share))
            for line, share in zip(worth, shares, strict=True)
        ]
        return self._settlement(RefundKind.UNITS, short, parts, amount, amount)

    def _amount_refund(self, amount: Decimal) -> RefundSettlement:
        left = self.refundable
        if amount > left:
            raise OverRefundError(
                f"{self._text(amount)} {self.currency} asked, at most {self._text(left)}"
                f" {self.currency} can still be refunded for order {self.order_id}",
                self._text(left),
                self.currency,
            )
        # Money only: spread over the SKUs by what is left of each, so a channel that refunds
        # per item (Amazon) can name them; no unit is refunded.
        units = units_per_sku(self.lines) + self.short
        skus = list(units)
        weights = [max(ZERO, self._left_of(sku)) for sku in skus]
        if sum(weights, ZERO) < amount:  # cannot happen (amount <= refundable): keep a spread
            weights = [Decimal(units[sku]) for sku in skus]
        shares = allocate(amount, weights, self.currency)
        lines = [
            RefundLine(sku=sku, quantity=units[sku], amount=self._text(share))
            for sku, share in zip(skus, shares, strict=True)
            if share > 0
        ]
        return self._settlement(RefundKind.AMOUNT, False, lines, amount, amount)

    def _check_refundable_units(self, sku: str, quantity: int, short: bool) -> None:
        if short:
            available = self.short_refundable(sku)
            if self.short[sku] == 0:
                raise RefundQuantityError(sku, 0, f"no unit of SKU {sku} was short on this order")
            if quantity > available:
                raise RefundQuantityError(
                    sku,
                    available,
                    f"SKU {sku}: {quantity} asked, {available} short units left to refund",
                )
            return
        available = self.returnable(sku)
        if self.shipped[sku] == 0:
            raise RefundQuantityError(sku, 0, f"SKU {sku} was not shipped with this order")
        if quantity > available:
            raise RefundQuantityError(
                sku,
                available,
                f"SKU {sku}: {quantity} asked, {available} shipped units left to refund (not"
                " refunded and not on a return)",
            )

    def _due(self, sku: str, quantity: int, short: bool) -> Decimal:
        """Refund for `quantity` more units of a SKU: after n of its N units are settled, n/N of
        what was paid for them has been refunded, cut down, never more than is left of it."""
        if short:
            paid, units = self.short_paid(sku), self.short[sku]
            settled, refunded = self.short_settled[sku], self.short_refunded.get(sku, ZERO)
        else:
            paid, units = self.paid(sku), units_per_sku(self.lines)[sku]
            settled, refunded = self._units_back(sku), self.refunded.get(sku, ZERO)
        if not units:
            return self._money(ZERO)
        back = min(settled + quantity, units)
        due = (paid * back / units).quantize(self._unit, ROUND_DOWN) - refunded
        left = (paid - refunded).quantize(self._unit, ROUND_DOWN)
        return self._money(max(ZERO, min(due, left)))

    def _left_of(self, sku: str) -> Decimal:
        """What is left of what was paid for a SKU, its shipped and short units together."""
        paid = self.paid(sku) + self.short_paid(sku)
        return paid - self.refunded.get(sku, ZERO) - self.short_refunded.get(sku, ZERO)

    def _settlement(
        self,
        kind: RefundKind,
        short: bool,
        lines: list[RefundLine],
        amount: Decimal,
        full: Decimal,
    ) -> RefundSettlement:
        return RefundSettlement(
            kind=kind,
            short=short,
            lines=lines,
            amount=self._text(amount),
            full_amount=self._text(full),
            capped=amount < full,
            currency=self.currency,
        )

    @event(RefundSettled)
    def _refund_settled(
        self,
        refund_id: str,
        reason: str,
        kind: str,
        short: bool,
        lines: list[RefundLine],
        amount: Amount,
    ) -> None:
        self.refund_ids = [*self.refund_ids, refund_id]
        if kind == RefundKind.AMOUNT:
            self.amount_refunded = self.amount_refunded + Decimal(amount)
            return
        money_by_sku = dict(self.short_refunded if short else self.refunded)
        units = Counter(self.short_settled if short else self.written_off)
        for line in lines:
            sku = line["sku"]
            money_by_sku[sku] = money_by_sku.get(sku, ZERO) + Decimal(line["amount"])
            units[sku] += line["quantity"]
        if short:
            self.short_refunded, self.short_settled = money_by_sku, units
        else:
            self.refunded, self.written_off = money_by_sku, units

    def count_channel_refund(
        self, refund_id: str, lines: list[RefundLine], amount: Decimal
    ) -> bool:
        """A refund made at the channel: its units and money are not refunded again, however
        much it took (an over-refund is kept as it happened). Each refund counts once."""
        if refund_id in self.refund_ids:
            return False
        units: Counter[str] = Counter()
        by_sku: dict[str, Decimal] = {}
        left = self._money(amount)
        for line in lines:
            sku = line["sku"]
            units[sku] += min(line["quantity"], self.returnable(sku) - units[sku])
            share = min(self._money(Decimal(line["amount"])), left)
            by_sku[sku] = by_sku.get(sku, ZERO) + share
            left -= share
        over = max(ZERO, self._money(amount) - self.refundable)
        self._channel_refund_counted(
            refund_id=refund_id,
            units={sku: n for sku, n in units.items() if n > 0},
            by_sku={sku: self._text(m) for sku, m in by_sku.items()},
            rest=self._text(left),
            over=self._text(over),
        )
        return True

    @event(ChannelRefundCounted)
    def _channel_refund_counted(
        self,
        refund_id: str,
        units: dict[str, int],
        by_sku: dict[str, str],
        rest: Amount,
        over: Amount,
    ) -> None:
        self.refund_ids = [*self.refund_ids, refund_id]
        self.written_off = self.written_off + Counter(units)
        refunded = dict(self.refunded)
        for sku, amount in by_sku.items():
            refunded[sku] = refunded.get(sku, ZERO) + Decimal(amount)
        self.refunded = refunded
        self.amount_refunded = self.amount_refunded + Decimal(rest)

    # -- where received units go back --------------------------------------------------------

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
        """Refund per SKU: its share of what was paid for the SKU, never more than is left of
        it, nor of what was paid for the order (refunds without a return count too).

        After n of a SKU's N units came back, n/N of what was paid for it has been refunded,
        cut down to the currency's minor unit; so refunds in parts never pass what was paid, and
        the last unit back brings the total to exactly what was paid (discounts and taxes
        included, as the line's `paid` says), unless money went back without a return before.
        """
        lines: list[RefundLine] = []
        full_total = self._money(ZERO)
        left = self.refundable
        for sku, quantity in units.items():
            full = self._money(self.unit_price(sku) * quantity)
            amount = min(self._due(sku, quantity, short=False), left)
            left -= amount
            lines.append(RefundLine(sku=sku, quantity=quantity, amount=self._text(amount)))
            full_total += full
        return lines, full_total

    def _units_back(self, sku: str) -> int:
        """Units of a SKU settled so far: received back (each settled with its refund) or
        refunded without a return."""
        back = sum(units for (each, _), units in self.returned_to.items() if each == sku)
        return back + self.written_off[sku]

    @property
    def _unit(self) -> Decimal:
        return step(self.currency)

    def _money(self, value: Decimal) -> Decimal:
        """An amount in the order's currency's minor units (3 places for KWD, none for JPY)."""
        return money(value, self.currency)

    def _text(self, value: Decimal) -> str:
        """An amount as events carry it: a plain decimal string in the currency's minor units."""
        return format(self._money(value), "f")


def _line_paid(line: OrderLine) -> Decimal:
    """What was paid for a line; orders placed before amounts were kept know only the price."""
    paid = line.get("paid")
    if paid is not None:
        return Decimal(paid)
    return Decimal(line["unit_price"]) * line["quantity"]
