"""Card payments through a provider's hosted checkout, shaped as Stripe Checkout.

Stripe's documented shapes: `POST /v1/checkout/sessions` (form-encoded, `Authorization: Bearer
<secret key>`, an `Idempotency-Key`) with `mode=payment`, `line_items[0][price_data][currency]`,
`[unit_amount]` (in the currency's smallest unit), `[product_data][name]`, `[quantity]`,
`client_reference_id`, `metadata[...]`, `success_url`, `cancel_url`; the answer is a
`checkout.session` with `id` and `url` (where the customer is sent). The payment comes back as a
webhook event `checkout.session.completed` (or `checkout.session.async_payment_succeeded`) whose
`data.object` is the session (`payment_status: "paid"`, `amount_total`, `currency`,
`payment_intent`), signed in the `Stripe-Signature` header: `t=<unix time>,v1=<hex
HMAC-SHA256(endpoint secret, "<t>.<raw body>")>` (several v1 during a secret's rotation).
The card itself never reaches the OMS.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from shared import money
from shared.signing import any_matches, hex_signature


class CheckoutError(Exception):
    """The provider refused or could not be reached."""


class SignatureError(Exception):
    """A webhook whose signature does not hold (forged, altered, or too old)."""


@dataclass(frozen=True)
class CheckoutSession:
    """A hosted checkout opened at the provider: its id and where to send the customer."""

    session_id: str
    url: str


@dataclass(frozen=True)
class CardPayment:
    """What a verified provider event says was paid, for which bill."""

    event_id: str
    bill_id: str
    reference: str  # the provider's payment id (payment_intent), else the session's id
    amount: Decimal
    currency: str


# Stripe's exponents are not always ISO 4217's (docs.stripe.com/currencies): zero-decimal at
# Stripe are these (MGA has decimals in ISO); three decimals whose last must be 0 are
# STRIPE_THREE_DECIMAL; every other currency has two, ISK too (none in ISO; 100 = 1 króna).
STRIPE_ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
STRIPE_THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


def stripe_exponent(currency: str) -> int:
    """How many decimals Stripe's integer amounts of this currency carry."""
    code = currency.upper()
    if code in STRIPE_ZERO_DECIMAL:
        return 0
    return 3 if code in STRIPE_THREE_DECIMAL else 2


def smallest_units(amount: Decimal, currency: str) -> int:
    """The amount as Stripe takes it (THB 49.50 -> 4950, JPY 500 -> 500, ISK 5000 -> 500000,
    KWD 1.230 -> 1230); CheckoutError for an amount Stripe cannot charge (KWD 1.235: Stripe's
    three-decimal amounts end in 0; MGA 10.50: Stripe charges whole ariary)."""
    units = amount.scaleb(stripe_exponent(currency))
    if units != units.to_integral_value() or (
        currency.upper() in STRIPE_THREE_DECIMAL and int(units) % 10
    ):
        raise CheckoutError(f"the card provider cannot charge {currency} {amount} exactly")
    return int(units)


def from_smallest_units(units: int, currency: str) -> Decimal:
    """Stripe's integer amount as a decimal in the currency (4950 THB -> 49.50)."""
    return Decimal(units).scaleb(-stripe_exponent(currency))


class StripeCheckout:
    """One payment provider account: opens checkouts and verifies its webhooks."""

    def __init__(
        self, api_base: str, secret_key: str, webhook_secret: str, tolerance: float, timeout: float
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.tolerance = tolerance
        self.timeout = timeout

    async def open(
        self,
        *,
        bill_id: str,
        number: str,
        amount: Decimal,
        currency: str,
        success_url: str,
        cancel_url: str,
        attempt: str,
        closes_at: float | None = None,
    ) -> CheckoutSession:
        """A new hosted checkout for the bill's total; `attempt` makes a retried call the same.

        `closes_at` (unix time) ends the checkout with the bill, so nobody pays a bill that has
        expired; Stripe takes 30 minutes to 24 hours from now, so it is kept within those."""
        form = {
            "mode": "payment",
            "client_reference_id": bill_id,
            "metadata[bill_id]": bill_id,
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": currency.lower(),
            "line_items[0][price_data][unit_amount]": str(smallest_units(amount, currency)),
            "line_items[0][price_data][product_data][name]": f"Bill {number}",
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if closes_at is not None:
            now = time.time()
            form["expires_at"] = str(int(min(max(closes_at, now + 1800), now + 86_400)))
        headers = {
            "Authorization": f"Bearer {self.secret_key}",
            "Idempotency-Key": f"bill-{bill_id}-{attempt}",
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(
                    f"{self.api_base}/v1/checkout/sessions", data=form, headers=headers
                )
        except httpx.HTTPError as error:
            raise CheckoutError(f"payment provider unreachable: {error}") from None
        if response.status_code != 200:
            raise CheckoutError(f"payment provider answered {response.status_code}")
        body = response.json()
        return CheckoutSession(session_id=str(body["id"]), url=str(body["url"]))

    async def close(self, session_id: str) -> str:
        """Expire an open checkout so it can no longer be paid; its status after: "expired",
        or "complete" when the customer paid it meanwhile (nothing to close)."""
        url = f"{self.api_base}/v1/checkout/sessions/{session_id}"
        headers = {"Authorization": f"Bearer {self.secret_key}"}
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                expired = await client.post(f"{url}/expire", headers=headers)
                if expired.status_code == 200:
                    return str(expired.json().get("status"))
                # Not open any more (paid, or expired by Stripe): what is it now?
                found = await client.get(url, headers=headers)
        except httpx.HTTPError as error:
            raise CheckoutError(f"payment provider unreachable: {error}") from None
        if found.status_code != 200:
            raise CheckoutError(f"payment provider answered {found.status_code}")
        return str(found.json().get("status"))

    def verify(self, payload: bytes, header: str | None, now: float | None = None) -> None:
        """Raise SignatureError unless a v1 signature of the payload holds and is recent."""
        if not header or not self.webhook_secret:
            raise SignatureError("no Stripe-Signature header")
        parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
        stamps = [v for k, v in parts if k.strip() == "t"]
        signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
        if len(stamps) != 1 or not stamps[0].strip().isdigit() or not signatures:
            raise SignatureError("malformed Stripe-Signature header")
        stamp = stamps[0].strip()
        expected = hex_signature(self.webhook_secret, stamp.encode() + b"." + payload)
        if not any(any_matches(given, [expected]) for given in signatures):
            raise SignatureError("signature does not match")
        if abs((now if now is not None else time.time()) - int(stamp)) > self.tolerance:
            raise SignatureError("signature timestamp outside the tolerance")

    @staticmethod
    def payment(payload: bytes) -> CardPayment | None:
        """The payment a verified event reports; None for events that report none; ValueError
        for a body not in the event's documented shape."""
        try:
            return StripeCheckout._payment(json.loads(payload))
        except (AttributeError, TypeError, ArithmeticError) as error:
            raise ValueError(f"not a Stripe event: {error}") from None

    @staticmethod
    def _payment(event: dict[str, Any]) -> CardPayment | None:
        if event.get("type") not in (
            "checkout.session.completed",
            "checkout.session.async_payment_succeeded",
        ):
            return None
        session = event.get("data", {}).get("object", {})
        if session.get("payment_status") != "paid":
            return None  # completed but paid later (a delayed method): async_payment_succeeded
        bill_id = session.get("client_reference_id") or session.get("metadata", {}).get("bill_id")
        currency = str(session.get("currency", "")).upper()
        if not bill_id or currency not in money.MINOR_UNITS:
            return None
        amount = from_smallest_units(int(session.get("amount_total", 0)), currency)
        return CardPayment(
            event_id=str(event.get("id", "")),
            bill_id=str(bill_id),
            reference=str(session.get("payment_intent") or session.get("id")),
            amount=amount,
            currency=currency,
        )
