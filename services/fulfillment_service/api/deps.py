"""What every fulfillment endpoint depends on: the application, the views, document responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from eventsourcing.persistence import IntegrityError
from fastapi import Depends, Header, Request, Response
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from services.fulfillment_service.application import Shipments
from services.fulfillment_service.views import ShipmentViews

T = TypeVar("T")
PDF = "application/pdf"
ZPL = "application/zpl"


def get_app(request: Request) -> Shipments:
    """The Shipments application of this process."""
    return request.app.state.shipments


def get_views(request: Request) -> ShipmentViews:
    """The fulfillment read models of this process."""
    return request.app.state.views


AppDep = Annotated[Shipments, Depends(get_app)]
ViewsDep = Annotated[ShipmentViews, Depends(get_views)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retrying with the same key records the command once.",
    ),
]
DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {}, ZPL: {}}, "description": "The document, ready to print."}
}


def document(content: bytes | str, media_type: str, filename: str) -> Response:
    """A printable document, shown inline by browsers and saved under a useful name."""
    body = content.encode() if isinstance(content, str) else content
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def retry_contended(command: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a command that takes serial numbers again, after a short random pause, on a conflict.

    Every package and every rate-table shipment takes numbers from one counter; packers busy at
    the same moment collide on it. Retrying at once (retry_on_conflict) can lose to the same
    neighbours each time; a jittered pause spreads them out.
    """
    for attempt in Retrying(
        retry=retry_if_exception_type(IntegrityError),
        wait=wait_random_exponential(multiplier=0.002, max=0.2),
        stop=stop_after_attempt(60),
        reraise=True,
    ):
        with attempt:
            return command(*args, **kwargs)
    raise AssertionError("unreachable: tenacity returns or reraises")
