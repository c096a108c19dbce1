"""A fake Stripe Checkout over real HTTP: sessions created, paid, and the signed webhook sent.

It reproduces what Stripe documents for a one-off payment: `POST /v1/checkout/sessions`, form
encoded with `Authorization: Bearer <secret key>` (401 otherwise), `mode=payment` and
`line_items[0][price_data][...]` (400 when missing), answered with a `checkout.session` object
(`id` cs_test_..., `url`, `amount_total` in the smallest unit, lower-case `currency`,
`client_reference_id`, `metadata`, `payment_status` "unpaid", `status` "open"); a repeated
`Idempotency-Key` answers the same session; `expires_at` must lie 30 minutes to 24 hours
ahead (400 otherwise). `POST /v1/checkout/sessions/{id}/expire` expires an open session (400
for one complete or expired) and `GET /v1/checkout/sessions/{id}` reads one. Paying it (`pay`,
standing in for the customer on the hosted page, which takes no card once expired) completes
the session and POSTs the event `checkout.session.completed` with `data.object` the session
(`payment_status` "paid", `payment_intent` pi_...), signed in the `Stripe-Signature` header as
`t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse

from tests.fakes.server import FakeChannel

SECRET_KEY = "sk_test_fake_bills"
WEBHOOK_SECRET = "whsec_fake_bills"


def stripe_signature(body: bytes, secret: str, at: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends with this body."""
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


@dataclass
class FakeStripe(FakeChannel):
    """Checkout sessions in memory; `webhook_url` is the gateway's endpoint for its events."""

    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    webhook_url: str = ""

    def routes(self) -> None:
        @self.app.post("/v1/checkout/sessions")
        async def create_session(request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {SECRET_KEY}":
                return _error(401, "Invalid API Key provided")
            form = dict((await request.form()).items())
            key = request.headers.get("idempotency-key", "")
            if key and key in self.by_key:
                return JSONResponse(self.sessions[self.by_key[key]])
            price = "line_items[0][price_data]"
            needed = (
                "mode",
                "success_url",
                f"{price}[currency]",
                f"{price}[unit_amount]",
                f"{price}[product_data][name]",
            )
            missing = [name for name in needed if not form.get(name)]
            if missing or form["mode"] != "payment":
                return _error(400, f"Missing required param: {', '.join(missing) or 'mode'}")
            expires_at = int(str(form.get("expires_at") or time.time() + 86_400))
            if not time.time() + 1800 - 60 <= expires_at <= time.time() + 86_400 + 60:
                return _error(400, "expires_at must be between 30 minutes and 24 hours from now")
            session_id = f"cs_test_{uuid.uuid4().hex}"
            amount = int(str(form[f"{price}[unit_amount]"])) * int(
                str(form.get("line_items[0][quantity]", "1"))
            )
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": "payment",
                "url": f"{self.url}/pay/{session_id}",
                "amount_total": amount,
                "currency": str(form[f"{price}[currency]"]),
                "client_reference_id": form.get("client_reference_id"),
                "metadata": {
                    k[len("metadata[") : -1]: v
                    for k, v in form.items()
                    if k.startswith("metadata[")
                },
                "payment_status": "unpaid",
                "status": "open",
                "payment_intent": None,
                "success_url": form["success_url"],
                "expires_at": expires_at,
            }
            self.sessions[session_id] = session
            if key:
                self.by_key[key] = session_id
            return JSONResponse(session)

        @self.app.post("/v1/checkout/sessions/{session_id}/expire")
        async def expire_session(session_id: str, request: Request) -> JSONResponse:
            """Only an open session can be expired (400 otherwise, as Stripe answers)."""
            if request.headers.get("authorization") != f"Bearer {SECRET_KEY}":
                return _error(401, "Invalid API Key provided")
            session = self.sessions.get(session_id)
            if session is None:
                return _error(404, f"No such checkout.session: '{session_id}'")
            if session["status"] != "open":
                return _error(400, "Only Checkout Sessions with a status of open can be expired")
            session["status"] = "expired"
            return JSONResponse(session)

        @self.app.get("/v1/checkout/sessions/{session_id}")
        async def get_session(session_id: str, request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {SECRET_KEY}":
                return _error(401, "Invalid API Key provided")
            session = self.sessions.get(session_id)
            if session is None:
                return _error(404, f"No such checkout.session: '{session_id}'")
            return JSONResponse(session)

        @self.app.get("/pay/{session_id}")
        async def hosted_page(session_id: str) -> HTMLResponse:
            """The hosted checkout page the customer is sent to (the test pays for them)."""
            session = self.sessions.get(session_id)
            if session is None:
                return HTMLResponse("<h1>Not found</h1>", status_code=404)
            amount = f"{session['amount_total']} {session['currency']}"
            return HTMLResponse(f"<h1>Fake Checkout</h1><p>Pay {amount}</p>")

    def pay(self, session_id: str, secret: str = WEBHOOK_SECRET) -> httpx.Response:
        """The customer paid on the hosted page: complete the session and send the event."""
        session = self.sessions[session_id]
        if session["status"] != "open":  # the hosted page of an expired session takes no card
            raise ValueError(f"checkout session {session_id} is {session['status']}")
        session.update(
            payment_status="paid", status="complete", payment_intent=f"pi_{uuid.uuid4().hex[:24]}"
        )
        return self.send_event("checkout.session.completed", session, secret)

    def send_event(
        self, kind: str, session: dict[str, Any], secret: str = WEBHOOK_SECRET
    ) -> httpx.Response:
        """POST a signed event about the session to the gateway."""
        body = json.dumps(
            {
                "id": f"evt_{uuid.uuid4().hex[:24]}",
                "object": "event",
                "type": kind,
                "created": int(time.time()),
                "data": {"object": session},
            }
        ).encode()
        headers = {"Stripe-Signature": stripe_signature(body, secret)}
        headers["Content-Type"] = "application/json"
        return httpx.post(self.webhook_url, content=body, headers=headers, timeout=30)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"type": "invalid_request_error", "message": message}}, status_code=status
    )
