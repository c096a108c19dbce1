"""The canonical order as every channel's order must become it, validated once for all.

Both the HTTP intake (schemas) and the channel translators (channels) check an order with these
models, so they live below both: see docs/architecture.md, "The rooms of a service".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PrivateAttr,
    StrictBool,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from services.channel_gateway import domain
from shared import money
from shared.countries import COUNTRIES
from shared.money import ROUNDING
from shared.payments import ASSUMED, PaymentState

CURRENCIES = money.CURRENCIES


def minor_units(currency: str) -> int:
    """Decimal places of the currency's smallest unit (2 for a code ISO 4217 does not know,
    which the model refuses on its own)."""
    return money.MINOR_UNITS.get(currency, 2)


def _known(codes: frozenset[str], standard: str) -> Any:
    def check(value: str) -> str:
        if value not in codes:
            raise ValueError(f"{value!r} is not an {standard} code")
        return value

    return check


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _text(max_length: int, pattern: str | None = None) -> Any:
    return StringConstraints(
        strip_whitespace=True, min_length=1, max_length=max_length, pattern=pattern
    )


Text = Annotated[str, _text(200)]


# Text that may be left out, null or blank (kept as None): the constraints apply to text only
# (on `str | None` as a whole, pydantic fails with a TypeError on null: a 500, not a 422).
OptionalText50 = Annotated[Annotated[str, _text(50)] | None, BeforeValidator(_blank_to_none)]
OptionalText100 = Annotated[Annotated[str, _text(100)] | None, BeforeValidator(_blank_to_none)]
OptionalText200 = Annotated[Annotated[str, _text(200)] | None, BeforeValidator(_blank_to_none)]
OptionalText500 = Annotated[Annotated[str, _text(500)] | None, BeforeValidator(_blank_to_none)]
Note = Annotated[Annotated[str, _text(5000)] | None, BeforeValidator(_blank_to_none)]
SubdivisionCode = Annotated[
    Annotated[str, _text(6, r"^[A-Z]{2}-[A-Z0-9]{1,3}$")] | None, BeforeValidator(_blank_to_none)
]
Channel = Annotated[str, _text(64, r"^[a-z0-9_-]+$")]
Sku = Annotated[str, _text(64, r"^[A-Za-z0-9._\-/]+$")]  # as the contract's SKU
Country = Annotated[
    str, BeforeValidator(_upper), AfterValidator(_known(COUNTRIES, "ISO 3166-1 alpha-2"))
]
Currency = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_known(CURRENCIES, "ISO 4217"))
]
# 1.5, "2" and true are not quantities; a million units of one SKU is past any real order.
Quantity = Annotated[int, Field(strict=True, gt=0, le=1_000_000)]
Price = Annotated[Decimal, Field(ge=0, lt=Decimal("1e12"), allow_inf_nan=False)]


class Edge(BaseModel):
    """A request model: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Customer(Edge):
    """Who ordered; no payment data, ever."""

    name: Text
    email: EmailStr
    phone: OptionalText50 = None


class Address(Edge):
    """Where the order goes."""

    name: Text
    line1: Text
    line2: OptionalText200 = None
    city: Text
    postal_code: Annotated[str, _text(20)]
    country: Country
    company: OptionalText200 = None
    phone: OptionalText50 = None
    state: OptionalText100 = None
    state_code: SubdivisionCode = None


class TaxLine(Edge):
    """One tax on a line: its name, rate (0.06 is 6 %) and amount."""

    title: Text
    rate: Annotated[Decimal, Field(ge=0, le=10, allow_inf_nan=False)]
    amount: Price


class ShippingLine(Edge):
    """A shipping charge of the order: its title, price, the discount on it and its taxes (price
    and discount with the taxes in them when the order's `taxes_included` is true)."""

    title: Text
    price: Price
    discount: Price = Decimal(0)
    taxes: list[TaxLine] = Field(default_factory=list, max_length=100)


class Totals(Edge):
    """What the channel says the order came to. Each amount given must agree with the lines and
    shipping lines (README, "The money of an order"); one left out is computed from them."""

    items: Price | None = Field(None, description="quantity x unit price of every line")
    discounts: Price | None = Field(None, description="discounts on the lines")
    tax: Price | None = Field(None, description="taxes of the lines and shipping lines")
    shipping: Price | None = Field(None, description="shipping after its discounts")
    paid: Price | None = Field(None, description="what the buyer paid for the order")


TOTALS = ("items", "discounts", "tax", "shipping", "paid")


class OrderLine(Edge):
    """One line of the order as the channel sent it: a SKU, its quantity and unit price (a SKU
    may be on several lines, at the same or different prices: lines are never merged)."""

    sku: Sku
    quantity: Quantity
    unit_price: Price
    line_id: OptionalText100 = None
    title: OptionalText500 = None
    variant_title: OptionalText500 = None
    discount: Price | None = None
    taxes: list[TaxLine] | None = None
    paid: Price | None = None


class CanonicalOrderModel(Edge):
    """The canonical order with its channel and external id, as a model that checks every rule."""

    channel: Channel
    external_id: Text
    customer: Customer
    shipping_address: Address
    currency: Currency  # before lines, so the lines' prices can be checked against it
    lines: list[OrderLine] = Field(min_length=1, max_length=1000)
    payment_state: PaymentState = Field(
        ASSUMED,
        description="how far the buyer has paid; what may ship is the channel's payment policy"
        ' (README, "The money of an order")',
    )
    channel_order_number: OptionalText100 = Field(
        None, description="the order's number as the channel shows it to the buyer (Shopify #1001)"
    )
    billing_address: Address | None = None
    note: Note = Field(None, description="the customer's note to the merchant")
    taxes_included: StrictBool | None = Field(
        None,
        description="unit prices, discounts and shipping include the taxes; left out: they do not",
    )
    shipping_lines: list[ShippingLine] | None = Field(None, max_length=100)
    totals: Totals | None = Field(
        None,
        description="what the channel says the order came to; every amount given must agree with"
        " the lines and shipping lines, and the order's totals are computed from them",
    )
    _totals: dict[str, Decimal] = PrivateAttr(default_factory=dict)

    @field_validator("lines")
    @classmethod
    def _prices_fit_currency(cls, lines: list[OrderLine], info: ValidationInfo) -> list[OrderLine]:
        currency = info.data.get("currency")
        if currency is None:
            return lines  # the currency's own error is reported
        step = Decimal(1).scaleb(-minor_units(currency))
        for index, line in enumerate(lines):
            if line.unit_price != line.unit_price.quantize(step):
                raise ValueError(
                    f"lines.{index}.unit_price {line.unit_price} of SKU {line.sku} has more "
                    f"decimal places than {currency} allows ({minor_units(currency)})"
                )
        return lines

    @field_validator("shipping_lines")
    @classmethod
    def _shipping_fits_currency(
        cls, lines: list[ShippingLine] | None, info: ValidationInfo
    ) -> list[ShippingLine] | None:
        currency = info.data.get("currency")
        if currency is None or lines is None:
            return lines
        for index, line in enumerate(lines):
            where = f"shipping_lines.{index}"
            _check_fits(f"{where}.price", line.price, currency)
            _check_fits(f"{where}.discount", line.discount, currency)
            for number, tax in enumerate(line.taxes):
                _check_fits(f"{where}.taxes.{number}.amount", tax.amount, currency)
            if line.discount > line.price:
                raise ValueError(f"{where}.discount {line.discount} exceeds its price {line.price}")
        return lines

    @field_validator("totals")
    @classmethod
    def _totals_fit_currency(cls, totals: Totals | None, info: ValidationInfo) -> Totals | None:
        currency = info.data.get("currency")
        if currency is None or totals is None:
            return totals
        for name in TOTALS:
            amount = getattr(totals, name)
            if amount is not None:
                _check_fits(f"totals.{name}", amount, currency)
        return totals

    @model_validator(mode="after")
    def _totals_agree(self) -> CanonicalOrderModel:
        """The order's totals from its lines and shipping lines; the channel's own must agree.

        Up to one minor unit per line and shipping line is rounding (a store that rounds tax on
        the subtotal, not per line, is a cent off the sum of its lines): accepted, the lines'
        figures kept. More than that is money nobody can explain: the order is held.
        """
        shipping = self.shipping_lines or []
        computed = order_totals(self.lines, shipping, bool(self.taxes_included), self.currency)
        if self.totals is not None:
            rounding = money.step(self.currency) * (len(self.lines) + len(shipping))
            wrong = [
                f"totals.{name} {format(given, 'f')} does not match the lines and shipping"
                f" {format(computed[name], 'f')}"
                for name in TOTALS
                if (given := getattr(self.totals, name)) is not None
                and abs(given - computed[name]) > rounding
            ]
            if wrong:
                raise ValueError("; ".join(wrong))
        self._totals = computed
        return self

    def canonical(self) -> domain.CanonicalOrder:
        """The order as intake stores it: plain values, prices exact strings in minor units."""
        # Built field by field rather than by model_dump: the same dicts, at a fraction of the
        # cost on the intake path.
        step = Decimal(1).scaleb(-minor_units(self.currency))
        customer, address = self.customer, self.shipping_address
        buyer: domain.Customer = {"name": customer.name, "email": customer.email}
        if customer.phone is not None:
            buyer["phone"] = customer.phone
        order: domain.CanonicalOrder = {
            "customer": buyer,
            "shipping_address": _address(address),
            "lines": [_line(line, step, bool(self.taxes_included)) for line in self.lines],
            "currency": self.currency,
            "payment_state": self.payment_state.value,
            "totals": _totals_text(self._totals),
        }
        # Only what the order told: older orders and channels that do not say stay as they were.
        if self.channel_order_number is not None:
            order["channel_order_number"] = self.channel_order_number
        if self.billing_address is not None:
            order["billing_address"] = _address(self.billing_address)
        if self.note is not None:
            order["note"] = self.note
        if self.shipping_lines is not None:
            order["shipping_lines"] = [_shipping_line(s, step) for s in self.shipping_lines]
        if self.taxes_included is not None:
            order["taxes_included"] = self.taxes_included
        return order


def _totals_text(totals: dict[str, Decimal]) -> domain.OrderTotals:
    return {
        "items": format(totals["items"], "f"),
        "discounts": format(totals["discounts"], "f"),
        "tax": format(totals["tax"], "f"),
        "shipping": format(totals["shipping"], "f"),
        "paid": format(totals["paid"], "f"),
    }


def _check_fits(where: str, amount: Decimal, currency: str) -> None:
    if amount != amount.quantize(Decimal(1).scaleb(-minor_units(currency))):
        raise ValueError(
            f"{where} {amount} has more decimal places than {currency} allows"
            f" ({minor_units(currency)})"
        )


def order_totals(
    lines: list[OrderLine], shipping_lines: list[ShippingLine], taxes_included: bool, currency: str
) -> dict[str, Decimal]:
    """What the order came to, from its lines and shipping lines, in the currency's minor units.

    items: quantity x unit price; discounts: the lines' discounts (a shipping discount is in
    `shipping`); tax: the taxes of lines and shipping lines; shipping: price - discount of each
    shipping line; paid: each line's `paid` (quantity x unit price - discount, + taxes when prices
    exclude them, where the line does not say) plus each shipping line's price - discount (+ its
    taxes when prices exclude them). A line or total below zero is refused.
    """
    step = Decimal(1).scaleb(-minor_units(currency))
    zero = Decimal(0)
    items = discounts = tax = shipping = paid = zero
    for index, line in enumerate(lines):
        subtotal = line.unit_price * line.quantity
        if line.discount is None and not line.taxes and line.paid is None:
            items, paid = items + subtotal, paid + subtotal  # the common line: a price, no more
            continue
        discount = (line.discount or zero).quantize(step, ROUNDING)
        taxes = sum(((t.amount.quantize(step, ROUNDING)) for t in line.taxes or []), zero)
        line_paid = _line_paid(line, step, taxes_included)
        if line_paid < 0:
            raise ValueError(
                f"lines.{index}.discount {discount} exceeds the line's amount {subtotal}"
            )
        items, discounts, tax, paid = (
            items + subtotal,
            discounts + discount,
            tax + taxes,
            paid + line_paid,
        )
    for charge in shipping_lines:
        net = charge.price - charge.discount
        taxes = sum((t.amount for t in charge.taxes), zero)
        shipping, tax = shipping + net, tax + taxes
        paid += net + (zero if taxes_included else taxes)
    return {
        name: value.quantize(step)
        for name, value in zip(TOTALS, (items, discounts, tax, shipping, paid), strict=True)
    }


def _line_paid(line: OrderLine, step: Decimal, taxes_included: bool) -> Decimal:
    """What the buyer paid for a line: as the channel said, else quantity x unit price less
    its discount, plus its taxes when prices exclude them."""
    if line.paid is not None:
        return line.paid.quantize(step, ROUNDING)
    discount = (line.discount or Decimal(0)).quantize(step, ROUNDING)
    taxes = sum((t.amount.quantize(step, ROUNDING) for t in line.taxes or []), Decimal(0))
    return line.unit_price * line.quantity - discount + (Decimal(0) if taxes_included else taxes)


_ADDRESS_EXTRAS = ("company", "phone", "state", "state_code")


def canonical_address(values: dict[str, Any]) -> domain.Address | None:
    """A translated address as intake stores it (so two compare equal when they are the same
    place), or None when it is not a whole postal address."""
    present = {k: v for k, v in values.items() if v is not None and v != ""}
    try:
        return _address(Address.model_validate(present))
    except ValidationError:
        return None


_LINE_EXTRAS = ("line_id", "title", "variant_title")


def _address(address: Address) -> Any:
    out: dict[str, Any] = {
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": address.country,
    }
    for name in _ADDRESS_EXTRAS:  # only what the channel told us: older orders stay as they were
        value = getattr(address, name)
        if value is not None:
            out[name] = value
    return out


def _shipping_line(line: ShippingLine, step: Decimal) -> Any:
    return {
        "title": line.title,
        "price": format(line.price.quantize(step), "f"),
        "discount": format(line.discount.quantize(step), "f"),
        "taxes": [
            {
                "title": t.title,
                "rate": format(t.rate, "f"),
                "amount": format(t.amount.quantize(step), "f"),
            }
            for t in line.taxes
        ],
    }


def _line(line: OrderLine, step: Decimal, taxes_included: bool) -> Any:
    out: dict[str, Any] = {
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price": format(line.unit_price.quantize(step), "f"),
    }
    for name in _LINE_EXTRAS:
        value = getattr(line, name)
        if value is not None:
            out[name] = value
    if line.discount is not None:
        out["discount"] = format(line.discount.quantize(step, ROUNDING), "f")
    if line.taxes is not None:
        out["taxes"] = [
            {
                "title": t.title,
                "rate": format(t.rate, "f"),
                "amount": format(t.amount.quantize(step, ROUNDING), "f"),
            }
            for t in line.taxes
        ]
    if line.paid is not None or line.discount is not None or line.taxes:
        # Said on every line with more than a price: refunds downstream are computed from it,
        # and quantity x unit price would give back a discount never paid.
        out["paid"] = format(_line_paid(line, step, taxes_included), "f")
    return out
