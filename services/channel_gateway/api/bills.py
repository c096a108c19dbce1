"""Bills for sellers (make, list, confirm a transfer, see its slip); the card provider's webhook."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Request, Response

from services.channel_gateway.api.deps import AppDep, ViewsDep
from services.channel_gateway.application import NewBill
from services.channel_gateway.channels.checkout import SignatureError, StripeCheckout
from services.channel_gateway.domain import (
    BillClosedError,
    BillLine,
    BillNotFoundError,
    BillStatus,
    PaymentMethod,
)
from services.channel_gateway.schemas.bills import (
    BillCreate,
    BillCreated,
    BillPaymentConfirm,
    BillPublic,
    BillsPublic,
)
from shared.runtime.api import (
    IdempotencyKey,
    PageQuery,
    Problem,
    component,
    links,
    page_query,
    problems,
)
from shared.runtime.tracing import current_trace

log = structlog.get_logger()
router = APIRouter(prefix="/bills", tags=["bills"])
payments = APIRouter(prefix="/payment-webhooks", tags=["bills"])
BILL_OPERATIONS = (
    "GET /v1/bills/{bill_id}",
    "POST /v1/bills/{bill_id}/payment",
    "GET /v1/bills/{bill_id}/slip",
)


@dataclass(frozen=True)
class BillPolicy:
    """How bills are offered (built by bootstrap from the settings)."""

    valid_for: timedelta
    public_url: str
    token_key: bytes  # derives a retried request's link from its Idempotency-Key
    slip_max_bytes: int
    country: str
    bank_account: str
    promptpay_id: str
    tracking_url: str
    cod: bool
    reserve_on_create: bool = False  # the bill's stock is reserved when it is made

    def link(self, token: str) -> str:
        """The bill's public link."""
        return f"{self.public_url.rstrip('/')}/b/{token}"

    def token_for(self, idempotency_key: str, actor: str) -> str:
        """The link's token of a request that may be retried: the same key (of the same caller)
        gives the same token, and nobody without the gateway's key can compute it."""
        mac = hmac.new(self.token_key, f"{actor}\n{idempotency_key}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


@router.post(
    "",
    response_model=BillCreated,
    status_code=201,
    responses=problems(422) | links(201, *BILL_OPERATIONS),
)
def create_bill(
    bill: BillCreate,
    app: AppDep,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> BillCreated:
    """Make a bill for a customer in a chat; the answer has its link (shown only this once, or
    again to a retry with the same Idempotency-Key)."""
    policy = component(request, BillPolicy)
    actor = current_trace().actor or "unknown"
    token = policy.token_for(idempotency_key, actor) if idempotency_key else None
    lines: list[BillLine] = [
        {
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": format(line.unit_price, "f"),
            "title": line.title,
        }
        for line in bill.lines
    ]
    new = NewBill(
        chat=bill.chat.value,
        handle=bill.handle,
        customer_name=bill.customer_name,
        lines=lines,
        shipping_fee=bill.shipping_fee,
        discount=bill.discount,
        note=bill.note,
        currency=bill.currency,
    )
    reserve_in = policy.country if policy.reserve_on_create else None
    made, token = app.bills.create(new, policy.valid_for, actor, token, reserve_in)
    response.headers["Location"] = f"/v1/bills/{made.id}"
    return BillCreated(
        bill_id=made.id,
        number=made.number,
        link=policy.link(token),
        total=made.total,
        currency=made.currency,
        expires_at=datetime.fromisoformat(made.expires_at),
    )


@router.get("", response_model=BillsPublic, responses=links(200, *BILL_OPERATIONS, at="/data/0"))
def list_bills(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query()],
    status: BillStatus | None = None,
    chat: str | None = None,
) -> BillsPublic:
    """Bills, newest first, filtered by status (unpaid, paid, shipped, expired, cancelled)."""
    rows, total = views.list_bills(status=status, chat=chat, limit=page.limit, offset=page.offset)
    return BillsPublic.of([BillPublic.model_validate(r) for r in rows], total, page)


@router.get("/{bill_id}", response_model=BillPublic, responses=problems(404))
def get_bill(bill_id: UUID, views: ViewsDep) -> BillPublic:
    """One bill: lines, money, the customer's confirmation, payment, shipments."""
    row = views.get_bill(bill_id)
    if row is None:
        raise Problem(404, "Bill not found", f"no bill {bill_id}")
    return BillPublic.model_validate(row)


@router.post("/{bill_id}/payment", responses=problems(404, 409))
def confirm_payment(bill_id: UUID, body: BillPaymentConfirm, app: AppDep) -> dict[str, str]:
    """The seller confirms a transfer or PromptPay payment arrived: the bill is paid and its
    order goes to the warehouse. 409 for a bill not awaiting such a payment."""
    bill = app.bills.get(bill_id)
    method = bill.payment_method
    if method not in (PaymentMethod.TRANSFER, PaymentMethod.PROMPTPAY):
        raise BillClosedError(f"bill {bill.number} is not paid by transfer or PromptPay")
    paid = app.bills.pay(
        bill_id, method, body.reference, bill.total, current_trace().actor or "ops"
    )
    return {"bill_id": str(bill_id), "status": "paid" if paid else "unchanged"}


@router.get("/{bill_id}/slip", responses=problems(404))
def get_slip(bill_id: UUID, app: AppDep, views: ViewsDep) -> Response:
    """The payment slip the customer uploaded last (an image or a PDF), to check it."""
    bill = app.bills.get(bill_id)
    stored = views.slip(bill_id, bill.slip["sha256"]) if bill.slip else None
    if stored is None:
        raise BillNotFoundError(f"bill {bill.number} has no slip")
    content_type, content = stored
    return Response(
        content,
        media_type=content_type,
        headers={"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"},
    )


@payments.post("/card", responses=problems(400, 401, 404, 409, 422))
async def card_webhook(request: Request, app: AppDep) -> dict[str, str]:
    """The card provider's event (Stripe-Signature checked on the raw body): a paid checkout
    pays its bill once; a forged or stale one gets 401 and changes nothing."""
    body = await request.body()
    provider = component(request, StripeCheckout)
    try:
        provider.verify(body, request.headers.get("Stripe-Signature"))
        payment = provider.payment(body)
    except SignatureError as error:
        raise Problem(401, "Unsigned", f"Stripe-Signature: {error}") from None
    except ValueError:
        raise Problem(400, "Malformed payload", "the body is not a Stripe event") from None
    if payment is None:
        return {"status": "ignored"}
    try:
        bill_id = UUID(payment.bill_id)
    except ValueError:
        raise Problem(422, "Unknown bill", f"{payment.bill_id!r} is no bill") from None
    bill = await asyncio.to_thread(app.bills.get, bill_id)
    if payment.currency != bill.currency:
        raise Problem(
            422, "Payment mismatch", f"paid in {payment.currency}, bill is {bill.currency}"
        )
    try:
        paid = await asyncio.to_thread(
            app.bills.pay, bill_id, PaymentMethod.CARD, payment.reference, payment.amount, "card"
        )
    except BillClosedError:
        # Paid at the provider after the bill closed (expired, or paid another way): the money
        # must go back there. Answered 409, so the provider shows the event as failed too.
        log.warning(
            "card payment for a closed bill: refund it at the provider",
            bill_id=str(bill_id),
            reference=payment.reference,
        )
        raise
    log.info("card payment", bill_id=str(bill_id), recorded=paid, event_id=payment.event_id)
    return {"status": "paid" if paid else "unchanged"}
