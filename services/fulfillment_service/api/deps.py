"""What every fulfillment endpoint depends on: the application, the views, document responses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Response

from services.fulfillment_service.application import Shipments
from services.fulfillment_service.views import ShipmentViews
from shared.runtime.api import provide

PDF = "application/pdf"
ZPL = "application/zpl"

AppDep = Annotated[Shipments, provide(Shipments)]
ViewsDep = Annotated[ShipmentViews, provide(ShipmentViews)]
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
