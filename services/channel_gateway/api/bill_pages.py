"""The customer's bill page, `/b/{token}`: no login, the link's token is the key.

Public by design and outside /v1 (the short link goes into a chat): the access policy guards
/v1 only, and these pages show a bill only to whoever holds its unguessable token. A wrong or
expired token gets the same 404, which says nothing of any bill. Forms are CSRF-safe (a
double-submit token: a SameSite=Strict cookie and the same value in the form), the pages load
nothing from another host (Content-Security-Policy default-src 'self'), cannot be framed, and
send no Referer (the token is in the URL).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import secrets
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.channel_gateway.api.bill_texts import TEXTS, language
from services.channel_gateway.api.bills import BillPolicy
from services.channel_gateway.application import ChannelOrders, CustomerDetails, utc_stamp
from services.channel_gateway.channels.checkout import (
    CheckoutError,
    StripeCheckout,
    smallest_units,
)
from services.channel_gateway.domain import (
    Bill,
    BillError,
    BillNotFoundError,
    BillStatus,
    PaymentMethod,
)
from services.channel_gateway.domain.promptpay import promptpay_payload
from services.channel_gateway.views import ChannelOrderViews
from shared.runtime.api import Problem, component

HERE = Path(__file__).parent
PAGES_PREFIX = "/b/"
# What a page's form may carry beside a slip: its fields and the multipart framing.
PAGE_FORM_BYTES = 64 * 1024
router = APIRouter(prefix="/b", tags=["bill pages"], include_in_schema=False)
CSRF_COOKIE = "bill_csrf"
LANG_COOKIE = "bill_lang"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# A slip is a photo or a scan: what its first bytes say it is, never what the browser claims.
SLIP_TYPES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@functools.cache
def _templates() -> Environment:
    """The page templates (built on first use, not at import)."""
    return Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
    )


def _app(request: Request) -> ChannelOrders:
    return component(request, ChannelOrders)


async def _bill(request: Request, token: str) -> Bill:
    """The bill the token opens; a 404 page for any other token."""
    try:
        return await asyncio.to_thread(_app(request).bills.by_token, token)
    except BillNotFoundError:
        raise _not_found(request) from None


class NotFoundPage(Exception):
    """Answered with the page that says nothing (see `not_found_page`)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang


def _not_found(request: Request) -> NotFoundPage:
    return NotFoundPage(_lang(request))


def not_found_page(request: Request, error: Exception) -> Response:
    """The same 404 for a wrong token and an expired bill: nothing of any order."""
    lang = error.lang if isinstance(error, NotFoundPage) else "en"
    html = _templates().get_template("bill_missing.html").render(t=TEXTS[lang], lang=lang)
    return HTMLResponse(html, status_code=404, headers=SECURITY_HEADERS)


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return language(chosen, request.headers.get("accept-language"))


def _check_csrf(request: Request, sent: str) -> None:
    """The form's token must be the cookie's (a form posted from another site has neither)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise Problem(403, "Forbidden", "the form is stale or came from another site: reload it")


def _again(token: str) -> RedirectResponse:
    return RedirectResponse(f"/b/{token}", status_code=303, headers=SECURITY_HEADERS)


@router.get("/static/bill.css")
def stylesheet() -> FileResponse:
    """The page's only stylesheet, served here (no CDN)."""
    return FileResponse(HERE / "static" / "bill.css", media_type="text/css")


@router.get("/{token}", response_class=HTMLResponse)
async def bill_page(request: Request, token: str) -> Response:
    """The bill: lines and total, and what the customer can do now (confirm, pay, follow)."""
    bill = await _bill(request, token)
    lang = _lang(request)
    policy = component(request, BillPolicy)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    methods = _offered(request, bill)
    tracking_status = await asyncio.to_thread(_app(request).bills.tracking_status, bill)
    html = (
        _templates()
        .get_template("bill.html")
        .render(
            t=TEXTS[lang],
            lang=lang,
            other_lang="th" if lang == "en" else "en",
            token=token,
            bill=bill,
            items=bill.items_total,
            discount=Decimal(bill.discount),
            shipping=Decimal(bill.shipping_fee),
            status=_status_key(bill),
            methods=methods,
            policy=policy,
            tracking=[_tracking(policy, s) for s in bill.shipments if s.get("shared", True)],
            tracking_status=tracking_status,
            csrf=csrf,
        )
    )
    response = HTMLResponse(html, headers=SECURITY_HEADERS)
    secure = request.url.scheme == "https"
    response.set_cookie(
        CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=secure, path="/b"
    )
    if request.query_params.get("lang") in TEXTS:
        response.set_cookie(
            LANG_COOKIE, lang, samesite="lax", secure=secure, path="/b", max_age=31_536_000
        )
    return response


def _offered(request: Request, bill: Bill) -> list[PaymentMethod]:
    """The ways to pay this bill: those the merchant set up (PromptPay is for baht only)."""
    policy = component(request, BillPolicy)
    return [
        method
        for method, offered in (
            (PaymentMethod.TRANSFER, bool(policy.bank_account)),
            (PaymentMethod.PROMPTPAY, bool(policy.promptpay_id) and bill.currency == "THB"),
            (PaymentMethod.CARD, _card_takes(component(request, StripeCheckout), bill)),
            (PaymentMethod.COD, policy.cod),
        )
        if offered
    ]


def _card_takes(provider: StripeCheckout, bill: Bill) -> bool:
    """Whether the card provider is set up and can charge the bill's total exactly (Stripe's
    three-decimal amounts end in 0; some currencies it charges in whole units only)."""
    if not provider.secret_key:
        return False
    try:
        smallest_units(bill.total, bill.currency)
    except CheckoutError:
        return False
    return True


def _status_key(bill: Bill) -> str:
    if bill.status == BillStatus.UNPAID and bill.payment_method == PaymentMethod.COD:
        return "status_cod"
    return f"status_{bill.status.value}"


def _tracking(policy: BillPolicy, shipment: Any) -> dict[str, str]:
    """Carrier, number and where to follow it: the carrier's own page when it gave one, else the
    merchant's tracking page (BILL_TRACKING_URL) with the number in it."""
    number = shipment["tracking_number"]
    url = shipment.get("tracking_url") or (
        policy.tracking_url.replace("{tracking_number}", number) if policy.tracking_url else ""
    )
    return {"carrier": shipment["carrier"], "number": number, "url": url}


FormText = Annotated[str, Form(max_length=200)]


@router.post("/{token}/confirm")
async def confirm(
    request: Request,
    token: str,
    csrf: FormText = "",
    name: FormText = "",
    phone: FormText = "",
    email: FormText = "",
    line1: FormText = "",
    line2: FormText = "",
    city: FormText = "",
    state: FormText = "",
    postal_code: FormText = "",
    payment_method: FormText = "",
) -> Response:
    """The customer confirms details and payment method: the bill's order is placed.

    Every field is checked after the token (a wrong link is a 404 whatever the form holds)."""
    bill = await _bill(request, token)
    _check_csrf(request, csrf)
    required = {"name": name, "phone": phone, "line1": line1, "city": city}
    missing = [field for field, value in required.items() if not value.strip()]
    if not postal_code.strip() or len(postal_code) > 20:
        missing.append("postal_code")
    if payment_method not in _offered(request, bill):
        missing.append("payment_method")
    if missing:
        raise Problem(422, "Bill not confirmed", f"missing or invalid: {', '.join(missing)}")
    policy = component(request, BillPolicy)
    details = CustomerDetails(
        name=name.strip(),
        phone=phone.strip(),
        email=email.strip() or None,
        line1=line1.strip(),
        line2=line2.strip() or None,
        city=city.strip(),
        state=state.strip() or None,
        postal_code=postal_code.strip(),
        country=policy.country,
        payment_method=PaymentMethod(payment_method),
        language=_lang(request),
    )
    try:
        await asyncio.to_thread(_app(request).bills.confirm, bill.id, details)
    except BillNotFoundError:
        raise _not_found(request) from None
    except BillError as error:
        raise Problem(422, "Bill not confirmed", str(error)) from None
    return _again(token)


@router.post("/{token}/card")
async def pay_by_card(request: Request, token: str, csrf: FormText = "") -> Response:
    """Open the provider's hosted checkout for the total and send the customer there."""
    bill = await _bill(request, token)
    _check_csrf(request, csrf)
    app = _app(request)
    await asyncio.to_thread(app.bills.awaiting, bill.id, PaymentMethod.CARD)
    policy = component(request, BillPolicy)
    provider = component(request, StripeCheckout)
    previous = bill.checkout_session
    try:
        # One checkout open at a time, or a customer who clicks twice can pay twice.
        if previous is not None and await provider.close(previous) == "complete":
            return _again(token)  # paid meanwhile: its webhook pays the bill
        session = await provider.open(
            bill_id=str(bill.id),
            number=bill.number,
            amount=bill.total,
            currency=bill.currency,
            success_url=policy.link(token),
            cancel_url=policy.link(token),
            # Two clicks that found the same checkout before them open the same next one.
            attempt=f"after-{previous or 'none'}",
            closes_at=datetime.fromisoformat(bill.expires_at).timestamp(),
        )
    except CheckoutError as error:
        raise Problem(502, "Payment provider unavailable", str(error)) from None
    await asyncio.to_thread(app.bills.start_checkout, bill.id, session.session_id)
    return RedirectResponse(session.url, status_code=303, headers=SECURITY_HEADERS)


@router.post("/{token}/slip")
async def upload_slip(
    request: Request,
    token: str,
    slip: UploadFile | None = None,
    csrf: FormText = "",
) -> Response:
    """A transfer's slip: an image or a PDF under the size limit (413 larger, 415 another type)."""
    bill = await _bill(request, token)
    _check_csrf(request, csrf)
    if slip is None:
        raise Problem(422, "No slip", "choose the slip's file to upload")
    limit = component(request, BillPolicy).slip_max_bytes
    content = await slip.read(limit + 1)
    if len(content) > limit:
        raise Problem(413, "Slip too large", f"a slip may be at most {limit} bytes")
    content_type = next((kind for magic, kind in SLIP_TYPES if content.startswith(magic)), None)
    if content_type is None:
        raise Problem(415, "Not a slip", "a slip must be a JPEG, PNG or GIF image, or a PDF")
    digest = hashlib.sha256(content).hexdigest()
    app, views = _app(request), component(request, ChannelOrderViews)
    try:
        await asyncio.to_thread(app.bills.awaiting_slip, bill.id)
        await asyncio.to_thread(views.store_slip, bill.id, digest, content_type, content)
        await asyncio.to_thread(
            app.bills.upload_slip,
            bill.id,
            {
                "sha256": digest,
                "content_type": content_type,
                "size": len(content),
                "uploaded_at": utc_stamp(),
            },
        )
    except BillNotFoundError:
        raise _not_found(request) from None
    return _again(token)


@router.get("/{token}/promptpay.svg")
async def promptpay_qr(request: Request, token: str) -> Response:
    """The PromptPay QR of the bill's total (EMVCo payload), as SVG."""
    bill = await _bill(request, token)
    policy = component(request, BillPolicy)
    if bill.payment_method != PaymentMethod.PROMPTPAY or not policy.promptpay_id:
        raise _not_found(request)
    payload = promptpay_payload(policy.promptpay_id, bill.total)
    svg = segno.make(payload, error="m").svg_inline(scale=6, border=4)
    return Response(svg, media_type="image/svg+xml", headers=SECURITY_HEADERS)
