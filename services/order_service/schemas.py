"""HTTP request and response models of the order API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from services.order_service.domain import Address, OrderStatus
from shared.countries import COUNTRIES
from shared.events.base import Sku
from shared.payments import PaymentState
from shared.runtime.api import Page


def _text(max_length: int, pattern: str | None = None) -> Any:
    return StringConstraints(
        strip_whitespace=True, min_length=1, max_length=max_length, pattern=pattern
    )


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _assigned_country(value: str) -> str:
    if value not in COUNTRIES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 code")
    return value


# As the gateway's canonical address, except that a country must come upper-case already.
Text = Annotated[str, _text(200)]
# Optional text may be left out, null or blank (kept as None); the constraints apply to text
# only (on `str | None` as a whole, pydantic fails with a TypeError on null: a 500).
OptionalText50 = Annotated[Annotated[str, _text(50)] | None, BeforeValidator(_blank_to_none)]
OptionalText100 = Annotated[Annotated[str, _text(100)] | None, BeforeValidator(_blank_to_none)]
OptionalText200 = Annotated[Annotated[str, _text(200)] | None, BeforeValidator(_blank_to_none)]
SubdivisionCode = Annotated[
    Annotated[str, _text(6, r"^[A-Z]{2}-[A-Z0-9]{1,3}$")] | None, BeforeValidator(_blank_to_none)
]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(_assigned_country)]


class TimelineEntry(BaseModel):
    """One thing that happened to an order."""

    at: datetime
    event: str
    detail: dict[str, Any]
    actor: str | None = Field(
        None, description="who asked for it (a user or machine client); none: the OMS itself"
    )


class TaxLinePublic(BaseModel):
    """A tax on a line: its name, rate (0.06 is 6 %) and amount."""

    title: str
    rate: Decimal
    amount: Decimal


class OrderLinePublic(BaseModel):
    """An ordered line as the channel sent it (orders placed before amounts were kept lack them).

    Amounts are in the currency's minor units (README, "The money of an order").
    """

    sku: str
    quantity: int
    unit_price: Decimal
    line_id: str | None = Field(None, description="the channel's id of the line")
    title: str | None = Field(None, description="the product's title at the channel")
    variant_title: str | None = None
    discount: Decimal | None = Field(
        None, description="discounts allocated to the line: its own and its share of the order's"
    )
    taxes: list[TaxLinePublic] | None = None
    paid: Decimal | None = Field(None, description="what the buyer paid for the line")


class ShippingLinePublic(BaseModel):
    """A shipping charge: price, discount and taxes, in the currency's minor units."""

    title: str
    price: Decimal
    discount: Decimal
    taxes: list[TaxLinePublic] = []


class OrderTotalsPublic(BaseModel):
    """What the order came to (README, "The money of an order")."""

    items: Decimal = Field(description="quantity x unit price of every line, before discounts")
    discounts: Decimal = Field(description="the lines' discounts (shipping's are in shipping)")
    tax: Decimal = Field(description="the taxes of lines and shipping lines")
    shipping: Decimal = Field(description="shipping after its discounts")
    paid: Decimal = Field(description="what the buyer paid for the order")


class OrderPublic(BaseModel):
    """An order as ops see it."""

    model_config = ConfigDict(from_attributes=True)

    order_id: UUID
    channel: str
    external_id: str
    status: OrderStatus
    currency: str
    customer: dict[str, Any] = Field(
        description="name, email and, where the channel gave it, phone"
    )
    shipping_address: dict[str, Any] = Field(
        description="name, line1, line2, city, postal_code, country (ISO 3166-1) and, where the "
        "channel gave them, company, phone, state and state_code (ISO 3166-2, e.g. US-KY)"
    )
    lines: list[OrderLinePublic]
    channel_order_number: str | None = Field(
        None, description="the order's number as the channel shows it to the buyer (#1001)"
    )
    billing_address: dict[str, Any] | None = Field(
        None, description="as shipping_address; where the channel gave a whole one"
    )
    note: str | None = Field(None, description="the customer's note")
    shipping_lines: list[ShippingLinePublic] | None = None
    totals: OrderTotalsPublic | None = Field(
        None,
        description="items, discounts, tax, shipping and paid; absent on orders placed before"
        " totals were kept",
    )
    taxes_included: bool | None = Field(
        None, description="unit prices, discounts and shipping include the taxes"
    )
    allocations: list[dict[str, Any]]
    shipments: list[dict[str, Any]]
    returned: dict[str, int]
    short: dict[str, int] = Field(
        default_factory=dict,
        description="Units per SKU a picker did not find; they did not ship (partial fulfillment)",
    )
    refunded_total: Decimal
    picking: dict[str, str] = Field(
        default_factory=dict,
        description="Shipments whose picking started (shipment id -> pick list id): the ship-to "
        "no longer changes",
    )
    payment_state: PaymentState = Field(
        PaymentState.PAID, description="how far the buyer has paid (README, The money of an order)"
    )
    payment_due_at: datetime | None = Field(
        None, description="when the order is cancelled if still unpaid (the channel's policy)"
    )
    revision: int = Field(0, description="how often its lines were edited")
    promise_date: datetime | None = Field(
        None,
        description="backordered: when inventory expects its missing units (purchase orders and"
        " transfers on the way, first come first served); absent: not known",
    )
    placed_at: datetime
    updated_at: datetime
    timeline: list[TimelineEntry] = []


class OrdersPublic(Page[OrderPublic]):
    """A page of orders."""

    count: int = Field(
        description="How many orders match, the cursor aside; counted up to 1000 (count_capped"
        " says more match)"
    )
    count_capped: bool = Field(False, description="More orders match than count says")
    next_cursor: str | None = Field(
        None,
        description="Pass as `cursor` for the next page; absent on the last page. Opaque.",
    )


class OrderCancel(BaseModel):
    """Why an order is cancelled."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field("cancelled by operator", min_length=1, max_length=200)


class OrderCancelled(BaseModel):
    """The order's status after a cancel request."""

    order_id: UUID
    status: OrderStatus


class CancelRequestAnswer(BaseModel):
    """Ops' answer to a buyer's cancellation request made at the channel."""

    model_config = ConfigDict(extra="forbid")

    accept: bool
    why: str | None = Field(None, min_length=1, max_length=200, description="told to ops' log")


class CancelRequestAnswered(BaseModel):
    """The order's status after ops answered a cancellation request."""

    order_id: UUID
    status: OrderStatus
    accepted: bool


class PaymentCreate(BaseModel):
    """A payment the merchant saw: a bank transfer arrived, cash on delivery was collected."""

    model_config = ConfigDict(extra="forbid")

    payment_state: PaymentState = Field(description="the order's payment state after it")
    amount: Decimal | None = Field(
        None,
        ge=0,
        lt=Decimal("1e12"),
        allow_inf_nan=False,
        description="what arrived, in the order's currency and its minor units",
    )
    reference: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="the transfer's reference; the same reference and state again records nothing",
    )


class PaymentRecorded(BaseModel):
    """The order's status and payment state after a payment was recorded."""

    order_id: UUID
    status: OrderStatus
    payment_state: PaymentState


class AddressChange(BaseModel):
    """A postal address to ship to, validated as the gateway validates a channel's."""

    model_config = ConfigDict(extra="forbid")

    name: Text
    line1: Text
    line2: OptionalText200 = None
    city: Text
    postal_code: Annotated[str, _text(20)]
    country: Country = Field(description="ISO 3166-1 alpha-2, upper-case (DE)")
    company: OptionalText200 = None
    phone: OptionalText50 = None
    state: OptionalText100 = None
    state_code: SubdivisionCode = Field(None, description="ISO 3166-2, e.g. US-KY")

    def address(self) -> Address:
        """The address as the order keeps it."""
        return Address(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            postal_code=self.postal_code,
            country=self.country,
            company=self.company,
            phone=self.phone,
            state=self.state,
            state_code=self.state_code,
        )


class ShipToChange(BaseModel):
    """Where the order's parcels go instead, and why."""

    model_config = ConfigDict(extra="forbid")

    shipping_address: AddressChange
    reason: str | None = Field(None, min_length=1, max_length=200)


class ShipToChanged(BaseModel):
    """The order after its ship-to changed: its open shipments follow."""

    order_id: UUID
    status: OrderStatus
    shipping_address: dict[str, Any]


class LineCancel(BaseModel):
    """Units to take off one line of the order."""

    model_config = ConfigDict(extra="forbid")

    line: int = Field(
        ge=1, le=10_000, description="the line's number (1-based) as the order lists it"
    )
    quantity: int = Field(ge=1, le=1_000_000)


class LineAdd(BaseModel):
    """A line to add: a SKU, its quantity and its unit price in the order's currency."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price: Decimal = Field(ge=0, lt=Decimal("1e12"), allow_inf_nan=False)
    title: str | None = Field(None, min_length=1, max_length=500)


class OrderEdit(BaseModel):
    """Units to cancel and lines to add, and why (shown on the order's timeline)."""

    model_config = ConfigDict(extra="forbid")

    cancel: list[LineCancel] = Field(default_factory=list, max_length=500)
    add: list[LineAdd] = Field(default_factory=list, max_length=100)
    reason: str = Field(min_length=1, max_length=200)


class OrderEdited(BaseModel):
    """The order after an edit: placed again, with its new lines and payment state."""

    order_id: UUID
    status: OrderStatus
    revision: int
    payment_state: PaymentState
    lines: list[OrderLinePublic]
