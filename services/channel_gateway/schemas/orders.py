"""The canonical order and channel order models; the canonical order is validated here."""

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
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ISO 3166-1 alpha-2, all 249 assigned codes.
COUNTRIES = _codes(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW"""
)
# ISO 4217 currencies that buyers pay in (no funds, metals or test codes).
CURRENCIES = _codes(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR
    MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB
    RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
    TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    ZWL"""
)
# ISO 4217 minor units where they are not 2 (prices may not be finer than the currency).
MINOR_UNITS = {
    **dict.fromkeys(_codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"), 0),
    **dict.fromkeys(_codes("BHD IQD JOD KWD LYD OMR TND"), 3),
}


def minor_units(currency: str) -> int:
    """Decimal places of the currency's smallest unit."""
    return MINOR_UNITS.get(currency, 2)


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
Channel = Annotated[str, _text(64, r"^[a-z0-9_-]+$")]
Sku = Annotated[str, _text(64, r"^[A-Za-z0-9._\-/]+$")]  # as the contract's SKU
Country = Annotated[
    str, BeforeValidator(_upper), AfterValidator(_known(COUNTRIES, "ISO 3166-1 alpha-2"))
]
Currency = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_known(CURRENCIES, "ISO 4217"))
]
Quantity = Annotated[int, Field(strict=True, gt=0)]  # 1.5, "2" and true are not quantities
Price = Annotated[Decimal, Field(ge=0, lt=Decimal("1e12"), allow_inf_nan=False)]


class Edge(BaseModel):
    """A request model: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Customer(Edge):
    """Who ordered; no payment data, ever."""

    name: Text
    email: EmailStr


class Address(Edge):
    """Where the order goes."""

    name: Text
    line1: Text
    line2: Annotated[Text | None, BeforeValidator(_blank_to_none)] = None
    city: Text
    postal_code: Annotated[str, _text(20)]
    country: Country


class OrderLine(Edge):
    """One SKU of the order, its quantity and unit price."""

    sku: Sku
    quantity: Quantity
    unit_price: Price


class ChannelOrderCreate(Edge):
    """The canonical order: the one shape every channel's order is translated into."""

    channel: Channel
    external_id: Text
    customer: Customer
    shipping_address: Address
    currency: Currency  # before lines, so the lines' prices can be checked against it
    lines: list[OrderLine] = Field(min_length=1, max_length=1000)

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[OrderLine]) -> list[OrderLine]:
        seen: set[str] = set()
        for line in lines:
            if line.sku in seen:
                raise ValueError(f"SKU {line.sku} appears on more than one line")
            seen.add(line.sku)
        return lines

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

    def as_order(self) -> dict[str, Any]:
        """Keyword arguments of the intake use case; prices as exact strings in minor units."""
        step = Decimal(1).scaleb(-minor_units(self.currency))
        return {
            "channel": self.channel,
            "external_id": self.external_id,
            "customer": self.customer.model_dump(mode="json"),
            "shipping_address": self.shipping_address.model_dump(mode="json"),
            "lines": [
                {
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price": format(line.unit_price.quantize(step), "f"),
                }
                for line in self.lines
            ],
            "currency": self.currency,
        }


class ChannelOrderAccepted(Edge):
    """The id under which the OMS handles the order, and what became of it."""

    order_id: UUID
    status: str


class OrderLinePublic(BaseModel):
    """An ordered line (on a held order the SKU may still be unmapped)."""

    sku: str | None
    quantity: int
    unit_price: Decimal
    # Shown on held orders, where the channel's SKU is what still needs a mapping.
    channel_sku: str | None = Field(None, exclude_if=lambda value: value is None)


class PackagePublic(BaseModel):
    """A package of a shipment with its own tracking number."""

    package_id: UUID
    sscc: str
    tracking_number: str
    weight_grams: int | None = None


class ShipmentPublic(BaseModel):
    """A shipment that left, with what the channel needs to tell the customer."""

    shipment_id: UUID
    carrier: str
    tracking_number: str
    location_id: str
    lines: list[dict[str, Any]]
    shipped_at: datetime
    service: str | None = None
    packages: list[PackagePublic] = []


class RefundPublic(BaseModel):
    """Money that went back to the customer."""

    refund_id: UUID
    amount: Decimal
    currency: str
    refunded_at: datetime


class ChannelOrderPublic(BaseModel):
    """A channel order as received (or held, with why), and what the OMS has done since."""

    order_id: UUID
    channel: str
    external_id: str
    status: str
    currency: str | None
    customer: dict[str, Any]
    shipping_address: dict[str, Any]
    lines: list[OrderLinePublic]
    hold_reasons: list[str] = []
    shipments: list[ShipmentPublic]
    cancelled: bool
    cancel_reason: str | None
    cancelled_at: datetime | None
    refunds: list[RefundPublic]
    refunded_total: Decimal
    received_at: datetime
    released_at: datetime | None = None
    updated_at: datetime


class ChannelOrdersPublic(BaseModel):
    """A page of channel orders."""

    data: list[ChannelOrderPublic]
    count: int
    limit: int
    offset: int
