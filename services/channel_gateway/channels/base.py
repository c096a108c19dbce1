"""What every translator shares: the connection it translates for, SKU mapping, the checks.

A translator's result is the application's `Translation`; the canonical order is checked with
the application's model, the same one the HTTP intake uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from services.channel_gateway.application import CanonicalOrderModel, Translation, minor_units
from services.channel_gateway.application.canonical import Address
from services.channel_gateway.domain import (
    CHAT_KINDS,
    OWN_KINDS,
    CanonicalOrder,
    DraftAddress,
    DraftLine,
    DraftOrder,
    ShippingLine,
)
from shared import money
from shared.payments import ASSUMED, PaymentState


class ChannelPayload(BaseModel):
    """Base of a channel's payload shapes: channels send many more fields than we read; the ones
    we read are checked."""

    model_config = ConfigDict(extra="ignore")


class MalformedPayloadError(ValueError):
    """The channel sent something that is not in its documented shape (answered 400/422)."""


@dataclass(frozen=True)
class Connection:
    """What a translator needs to know about a connected channel (never its secrets)."""

    channel_id: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    sku_mapping: dict[str, str] = field(default_factory=dict)

    @property
    def require_mapping(self) -> bool:
        """Marketplaces name SKUs their own way unless the merchant says they are ours."""
        ours = self.kind in OWN_KINDS or self.kind in CHAT_KINDS  # the merchant wrote them
        return bool(self.config.get("require_sku_mapping", not ours))

    def our_sku(self, channel_sku: str | None) -> str | None:
        """Our SKU for a channel SKU, or None when it is not mapped."""
        if not channel_sku:
            return None
        mapped = self.sku_mapping.get(channel_sku)
        if mapped is not None:
            return mapped
        return None if self.require_mapping else channel_sku

    def channel_skus(self, our_sku: str) -> tuple[str, ...]:
        """The channel's SKUs for one of ours: those mapped to it, else ours unless the channel
        names SKUs its own way (then none: it does not sell it, as far as we know)."""
        mapped = tuple(sorted(c for c, ours in self.sku_mapping.items() if ours == our_sku))
        if mapped:
            return mapped
        return () if self.require_mapping else (our_sku,)


@dataclass
class ChannelLine:
    """One line as the channel sent it."""

    channel_sku: str | None
    quantity: int
    unit_price: Decimal
    title: str | None = None
    refs: dict[str, Any] = field(default_factory=dict)
    line_id: str | None = None
    variant_title: str | None = None
    discount: Decimal = Decimal(0)
    """Discounts the channel allocated to this line itself (not the order's, see `finish`)."""
    taxes: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    """(title, rate, amount) of each tax on the line."""


@dataclass
class ChannelShippingLine:
    """A shipping charge as the channel sent it: price and discount (with taxes in them when the
    order's prices include taxes), and its taxes."""

    title: str
    price: Decimal
    discount: Decimal = Decimal(0)
    taxes: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    """(title, rate, amount) of each tax on the shipping line."""


@dataclass(frozen=True)
class OrderFacts:
    """What a channel told of the order itself: its number, billing address, the customer's note,
    shipping lines and what it says the order came to (checked against the lines)."""

    number: str | None = None
    billing_address: dict[str, Any] | None = None
    note: str | None = None
    shipping_lines: list[ChannelShippingLine] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)
    """The channel's own: items, discounts, tax, shipping, paid (any of them)."""


NOTE_LENGTH = 5000  # as the contract keeps it


@dataclass(frozen=True)
class Amounts:
    """What a channel told of the order's money besides its lines' prices.

    `discount` is an order-level discount the channel did not allocate to lines: it is allocated
    here over the lines' subtotals by largest remainder (README, "The money of an order").
    """

    taxes_included: bool | None  # None: the channel does not say (no line has taxes then)
    discount: Decimal = Decimal(0)


def decimal(value: Any, what: str) -> Decimal:
    """A money amount from a channel's string or number (numbers via str, never binary floats)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise MalformedPayloadError(f"{what} {value!r} is not a number") from None
    if not amount.is_finite():
        raise MalformedPayloadError(f"{what} {value!r} is not a number")
    return amount


def finish(
    connection: Connection,
    external_id: str,
    payload: dict[str, Any],
    *,
    customer: dict[str, Any],
    shipping_address: dict[str, Any] | None,
    lines: list[ChannelLine],
    currency: str | None,
    refs: dict[str, Any] | None = None,
    amounts: Amounts | None = None,
    payment_state: PaymentState = ASSUMED,
    facts: OrderFacts | None = None,
) -> Translation:
    """Map SKUs and check the canonical order; anything that keeps it from being placed holds it.

    `payment_state` is what the channel says of the payment; an unpaid order is still taken in
    (the order service holds it until paid, by the channel's policy). `facts` are the order's
    own: totals the channel gives must agree with the lines and shipping lines, else the order
    is held saying which (README, "The money of an order").
    """
    reasons: list[str] = []
    paid = None
    if amounts is not None and currency in money.MINOR_UNITS:
        paid = _line_amounts(lines, amounts, currency, reasons)
    mapped, line_refs = _map_lines(connection, lines, currency, reasons, paid)
    if shipping_address is None:
        reasons.append("missing shipping address")
    draft: DraftOrder = {
        "customer": customer,
        "shipping_address": shipping_address or {},
        "lines": mapped,
        "currency": currency,
        "refs": {**(refs or {}), "lines": line_refs},
        "payment_state": payment_state.value,
    }
    if amounts is not None and amounts.taxes_included is not None:
        draft["taxes_included"] = amounts.taxes_included
    if facts is not None:
        _add_facts(draft, facts, currency)
    result = Translation(connection.channel_id, external_id, payload, draft=draft)
    if not reasons:
        result.order = _canonical(connection.channel_id, external_id, draft, reasons)
    result.reasons = reasons
    return result


def _map_lines(
    connection: Connection,
    lines: list[ChannelLine],
    currency: str | None,
    reasons: list[str],
    amounts: list[LineAmounts] | None = None,
) -> tuple[list[DraftLine], list[dict[str, Any]]]:
    """Our lines, one per channel line (never merged), and per line its channel refs."""
    step = Decimal(1).scaleb(-minor_units(currency or "EUR"))
    out: list[DraftLine] = []
    line_refs: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        sku = connection.our_sku(line.channel_sku)
        if line.channel_sku is None:
            reasons.append(f"line {line.title or '?'} has no SKU")
        elif sku is None:
            reasons.append(
                f"unknown SKU {line.channel_sku}: no mapping on channel {connection.channel_id}"
            )
        row = _draft_line(line, sku, step)
        if amounts is not None:
            share = amounts[index]
            row["discount"], row["taxes"], row["paid"] = share.discount, share.taxes, share.paid
        out.append(row)
        # The quantity lets news of N units of a SKU be spread over its lines (channels.http).
        line_refs.append(
            {"sku": sku, "channel_sku": line.channel_sku, "quantity": line.quantity, **line.refs}
        )
    return out, line_refs


def _draft_line(line: ChannelLine, sku: str | None, step: Decimal) -> DraftLine:
    """One channel line as ours: its SKU, quantity, price and what the channel told of it."""
    row: DraftLine = {
        "sku": sku,
        "channel_sku": line.channel_sku,
        "quantity": line.quantity,
        "unit_price": format(line.unit_price.quantize(step, rounding=ROUND_HALF_UP), "f"),
    }
    if line.line_id is not None:
        row["line_id"] = line.line_id
    if line.title:
        row["title"] = line.title
    if line.variant_title:
        row["variant_title"] = line.variant_title
    return row


@dataclass(frozen=True)
class LineAmounts:
    """What one channel line came to, as the draft line keeps it (minor-unit strings)."""

    discount: str
    taxes: list[dict[str, str]]
    paid: str


def _line_amounts(
    lines: list[ChannelLine], amounts: Amounts, currency: str, reasons: list[str]
) -> list[LineAmounts] | None:
    """Per channel line: discount (its own and its share of the order's), taxes, amount paid."""
    subtotals = [money.money(line.unit_price * line.quantity, currency) for line in lines]
    own = [money.money(line.discount, currency) for line in lines]
    after = [max(sub - disc, Decimal(0)) for sub, disc in zip(subtotals, own, strict=True)]
    order_discount = money.money(amounts.discount, currency)
    if order_discount > sum(after, Decimal(0)):
        reasons.append(f"order discount {order_discount} {currency} exceeds the lines' amounts")
        return None
    shares = money.allocate(order_discount, after, currency)
    out: list[LineAmounts] = []
    for line, subtotal, mine, share in zip(lines, subtotals, own, shares, strict=True):
        discount = mine + share
        taxes = [(t, r, money.money(a, currency)) for t, r, a in line.taxes]
        tax = sum((a for _, _, a in taxes), Decimal(0))
        paid = subtotal - discount + (Decimal(0) if amounts.taxes_included else tax)
        if paid < 0:
            reasons.append(f"line {line.title or line.channel_sku} is discounted below zero")
        out.append(
            LineAmounts(
                discount=money.text(discount, currency),
                taxes=[
                    {"title": t, "rate": format(r, "f"), "amount": money.text(a, currency)}
                    for t, r, a in taxes
                ],
                paid=money.text(max(paid, Decimal(0)), currency),
            )
        )
    return out


def _add_facts(draft: DraftOrder, facts: OrderFacts, currency: str | None) -> None:
    """The order's own facts on the draft, amounts in the currency's minor units."""
    number = (facts.number or "").strip()[:100]
    if number:
        draft["channel_order_number"] = number
    billing = _usable_address(facts.billing_address)
    if billing is not None:
        draft["billing_address"] = billing
    note = (facts.note or "").strip()
    if note:
        draft["note"] = note if len(note) <= NOTE_LENGTH else note[: NOTE_LENGTH - 1] + "\u2026"
    if currency not in money.MINOR_UNITS:
        return  # held for its currency anyway: amounts cannot be put in its minor units
    if facts.shipping_lines:
        draft["shipping_lines"] = [_shipping_line(s, currency) for s in facts.shipping_lines]
    if facts.totals:
        draft["totals"] = {k: money.text(v, currency) for k, v in facts.totals.items()}


def _shipping_line(line: ChannelShippingLine, currency: str) -> ShippingLine:
    return {
        "title": (line.title or "").strip()[:200] or "Shipping",
        "price": money.text(line.price, currency),
        "discount": money.text(line.discount, currency),
        "taxes": [
            {"title": t or "Tax", "rate": format(r, "f"), "amount": money.text(a, currency)}
            for t, r, a in line.taxes
        ],
    }


def _usable_address(address: dict[str, Any] | None) -> DraftAddress | None:
    """A billing address as the order keeps it, or None when it is not a whole postal address:
    the bill is not needed to ship, so an incomplete one never holds an order."""
    if not address:
        return None
    present = _present(address)
    try:
        Address.model_validate(present)
    except ValidationError:
        return None
    return dict(present)


def _canonical(
    channel: str, external_id: str, draft: DraftOrder, reasons: list[str]
) -> CanonicalOrder | None:
    body: dict[str, Any] = {
        "channel": channel,
        "external_id": external_id,
        "customer": _present(draft["customer"]),
        "shipping_address": _present(draft["shipping_address"]),
        "currency": draft["currency"],
        "lines": [{k: v for k, v in line.items() if k != "channel_sku"} for line in draft["lines"]],
        "payment_state": draft.get("payment_state", ASSUMED.value),
    }
    facts: dict[str, Any] = dict(draft)
    for name in ("channel_order_number", "note", "taxes_included", "shipping_lines", "totals"):
        if facts.get(name) is not None:
            body[name] = facts[name]
    if facts.get("billing_address"):
        body["billing_address"] = _present(facts["billing_address"])
    try:
        order = CanonicalOrderModel.model_validate(body).canonical()
    except ValidationError as error:
        reasons.extend(_reason(e) for e in error.errors())
        return None
    order["refs"] = draft["refs"]
    return order


def _present(values: dict[str, str | None]) -> dict[str, str]:
    # An absent field then reads "missing ...", not "None is not a valid string".
    return {k: v for k, v in values.items() if v is not None and v != ""}


def describe(error: ValidationError) -> str:
    """A validation error as one line naming each bad field."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
    )


def _reason(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    if error.get("type") == "missing":
        return f"missing {where.replace('_', ' ').replace('.', ' ')}"
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "value_error":
        message = message.removeprefix("Value error, ")  # our own checks say what is wrong
    return f"{where}: {message}" if where else message


def text(*parts: Any) -> str | None:
    """Non-empty parts joined by spaces, or None."""
    joined = " ".join(str(p).strip() for p in parts if p is not None and str(p).strip())
    return joined or None


def subdivision(country: str | None, code: str | None) -> str | None:
    """The ISO 3166-2 code of a state or province a channel named by its own code ("KY" in
    the US is "US-KY"), or None when it does not look like one."""
    if not country or not code:
        return None
    code = code.strip().upper()
    if code.startswith(f"{country}-"):
        code = code[len(country) + 1 :]
    if 1 <= len(code) <= 3 and code.isascii() and code.isalnum():
        return f"{country}-{code}"
    return None
