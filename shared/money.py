"""The money of an order, written once: minor units, rounding and allocation.

Every amount is a `Decimal` in its currency's ISO 4217 minor units (JPY 0, EUR 2, KWD 3), carried as
a decimal string in events and never as a float. The rules (README, "The money of an order"):

- Minor units are ISO 4217's. A currency code this module does not know is refused with
  `UnknownCurrency` rather than guessed at two places: a wrong guess for a three-decimal currency
  would cut amounts to a tenth, the very loss these rules are here to stop.
- Rounding is half-up (away from zero at the half), as Shopify and WooCommerce round their amounts
  (WooCommerce with PHP's `round()`), so our rounding of what a channel sent agrees with theirs.
- An amount spread over lines (an order-level discount, say) is allocated by largest remainder:
  the shares sum exactly to the amount, no minor unit lost or invented, no share above its line.

Pure and cheap: no I/O, safe for every service's domain and the intake path.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

ROUNDING = ROUND_HALF_UP
"""The rounding rule of every amount we compute (see the module's docstring)."""


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


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
# ISO 4217 minor units where they are not 2.
_NOT_TWO = {
    **dict.fromkeys(_codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"), 0),
    **dict.fromkeys(_codes("BHD IQD JOD KWD LYD OMR TND"), 3),
}
MINOR_UNITS: dict[str, int] = {code: _NOT_TWO.get(code, 2) for code in CURRENCIES}
_STEPS = {code: Decimal(1).scaleb(-places) for code, places in MINOR_UNITS.items()}


class UnknownCurrency(ValueError):
    """A currency code that is not an ISO 4217 currency buyers pay in."""

    def __init__(self, currency: object) -> None:
        super().__init__(f"{currency!r} is not an ISO 4217 currency code")
        self.currency = currency


def minor_units(currency: str) -> int:
    """Decimal places of the currency's smallest unit; an unknown code is refused."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


def step(currency: str) -> Decimal:
    """The currency's smallest unit as a Decimal (0.01, 1, 0.001)."""
    try:
        return _STEPS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


def money(value: Decimal | int | str, currency: str) -> Decimal:
    """The amount rounded to the currency's minor units by the rounding rule."""
    return Decimal(value).quantize(step(currency), rounding=ROUNDING)


def fits(value: Decimal, currency: str) -> bool:
    """Whether the amount is already exact in the currency's minor units."""
    return value == value.quantize(step(currency), rounding=ROUNDING)


def text(value: Decimal | int | str, currency: str) -> str:
    """The amount as events carry it: a plain decimal string in minor units ("12.50", "1200")."""
    return format(money(value, currency), "f")


def allocate(amount: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """`amount` spread over the weights in proportion, by largest remainder.

    The shares are in minor units and sum exactly to `amount` (rounded to minor units first).
    When `amount` is at most the sum of the weights, no share exceeds its weight, so a discount
    allocated over line subtotals never makes a line's paid amount negative. Ties in the
    remainder go to the earlier line, so the result is the same every time.
    """
    unit = step(currency)
    total = money(amount, currency)
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must not be negative")
    if total < 0:
        raise ValueError("the amount to allocate must not be negative")
    if not weights:
        if total:
            raise ValueError(f"{total} {currency} cannot be allocated over no lines")
        return []
    whole = sum(weights, Decimal(0))
    if whole == 0:
        if total:
            raise ValueError(f"{total} {currency} cannot be allocated over lines worth nothing")
        return [Decimal(0).quantize(unit) for _ in weights]
    units = int(total / unit)
    exact = [Decimal(units) * weight / whole for weight in weights]
    floors = [int(share.to_integral_value(rounding=ROUND_DOWN)) for share in exact]
    left = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in order[:left]:
        floors[index] += 1
    return [(Decimal(count) * unit).quantize(unit) for count in floors]
