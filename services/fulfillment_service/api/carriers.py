"""Carriers' tracking webhooks: the signature checked on the raw body, each event recorded once.

A forged or missing signature gets 401 and nothing is recorded; a body that is not the
carrier's documented shape gets 400; events of parcels that are not ours are answered 200 (the
carrier would only send them again) and named in the answer and the log.
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from services.fulfillment_service.api.deps import AppDep
from services.fulfillment_service.application import Shipments, TrackingWebhook
from services.fulfillment_service.schemas import WebhookAnswer
from shared.runtime.api import Problem, problems

router = APIRouter(prefix="/carriers", tags=["carriers"])
log = structlog.get_logger(__name__)


@router.post("/{carrier}/webhooks", response_model=WebhookAnswer, responses=problems(400, 401, 404))
async def tracking_webhook(carrier: str, request: Request, app: AppDep) -> WebhookAnswer:
    """A carrier's tracking push (EasyPost: X-Hmac-Signature; Ninja Van:
    X-Ninjavan-Hmac-Sha256), verified against the secret configured for that carrier."""
    webhook = app.carriers.webhook(carrier)
    if webhook is None:
        raise Problem(404, "Carrier not found", f"no carrier {carrier!r} pushes tracking here")
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    if not webhook.verify(body, headers):
        raise Problem(401, "Signature invalid", f"the body is not signed by {carrier}")
    return await run_in_threadpool(_record, app, webhook, body)


def _record(app: Shipments, webhook: TrackingWebhook, body: bytes) -> WebhookAnswer:
    try:
        updates = webhook.updates(body)
    except (ValueError, KeyError, TypeError) as error:  # json errors are ValueErrors
        detail = f"not a {webhook.name} tracking event: {type(error).__name__} {error}"
        raise Problem(400, "Malformed webhook", detail) from None
    recorded, repeated, unknown = 0, 0, []
    for update in updates:
        before = app.bookings.find(webhook.name, update.tracking_number)
        if before is None:
            unknown.append(update.tracking_number)
            continue
        booking = app.bookings.record_tracking(webhook.name, update)
        if booking is not None and len(booking.tracking) > len(before.tracking):
            recorded += 1
        else:
            repeated += 1
    if unknown:
        log.warning("tracking of parcels not ours", carrier=webhook.name, numbers=unknown)
    return WebhookAnswer(
        recorded=recorded, repeated=repeated, unknown_tracking_numbers=sorted(set(unknown))
    )


__all__ = ["router"]
