"""Shipments: query, pack into packages, ship with a carrier, print slips and labels."""

from __future__ import annotations

import base64
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.fulfillment_service.api.deps import (
    DOCUMENT_RESPONSES,
    PDF,
    ZPL,
    AppDep,
    ViewsDep,
    document,
)
from services.fulfillment_service.application.bookings import printed
from services.fulfillment_service.documents import (
    join_zpl,
    label_documents,
    merge_pdfs,
    packing_slip_document,
    render_labels,
    render_packing_slip,
    render_zpl,
)
from services.fulfillment_service.domain import ShipmentStatus
from services.fulfillment_service.schemas import (
    CarrierRecord,
    PackageCreate,
    RateQuote,
    ShipmentPublic,
    ShipmentShip,
    ShipmentsPublic,
)
from services.fulfillment_service.schemas.shipments import PackageCreated
from shared.runtime.api import IdempotencyKey, PageQuery, Problem, links, page_query, problems

router = APIRouter(prefix="/shipments", tags=["shipments"])
SHIPMENT_OPERATIONS = (
    "GET /v1/shipments/{shipment_id}",
    "POST /v1/shipments/{shipment_id}/packages",
    "POST /v1/shipments/{shipment_id}/ship",
    "GET /v1/shipments/{shipment_id}/rates",
    "GET /v1/shipments/{shipment_id}/packing-slip.pdf",
    "GET /v1/shipments/{shipment_id}/labels.pdf",
    "GET /v1/shipments/{shipment_id}/labels.zpl",
    "GET /v1/shipments/{shipment_id}/carrier",
    # The pick list a shipment is on, and the labels it prints once the shipment left.
    "GET /v1/pick-lists/{pick_list_id}",
    "GET /v1/pick-lists/{pick_list_id}/labels.pdf",
    "GET /v1/pick-lists/{pick_list_id}/labels.zpl",
)
PACKAGE_OPERATIONS = (
    "GET /v1/packages/{package_id}",
    "GET /v1/packages/{package_id}/label.pdf",
    "GET /v1/packages/{package_id}/label.zpl",
)
# Labels exist once the shipment left with a carrier: before that, 409.
LABEL_RESPONSES = DOCUMENT_RESPONSES | problems(409)


@router.get(
    "", response_model=ShipmentsPublic, responses=links(200, *SHIPMENT_OPERATIONS, at="/data/0")
)
def list_shipments(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query()],
    order_id: UUID | None = None,
    status: ShipmentStatus | None = None,
    location_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> ShipmentsPublic:
    """Shipments, oldest first, filtered by order, status and location."""
    rows, total = views.list_shipments(
        order_id=order_id,
        status=status,
        location_id=location_id,
        limit=page.limit,
        offset=page.offset,
    )
    return ShipmentsPublic.of([ShipmentPublic.model_validate(r) for r in rows], total, page)


@router.get(
    "/{shipment_id}",
    response_model=ShipmentPublic,
    responses=links(
        200,
        *PACKAGE_OPERATIONS,
        "DELETE /v1/shipments/{shipment_id}/packages/{package_id}",
        at="/packages/0",
        shipment_id="/shipment_id",
    ),
)
def get_shipment(shipment_id: UUID, views: ViewsDep) -> ShipmentPublic:
    """One shipment."""
    row = views.get_shipment(shipment_id)
    if row is None:
        raise Problem(404, "Shipment not found", f"no shipment {shipment_id}")
    return ShipmentPublic.model_validate(row)


@router.post("/{shipment_id}/ship", response_model=ShipmentPublic, responses=problems(409))
def ship_shipment(shipment_id: UUID, body: ShipmentShip, app: AppDep) -> ShipmentPublic:
    """The shipment leaves with a carrier; the same request again is harmless.

    Without packages: name the carrier and its tracking number. Packed into packages: a
    rate-table carrier issues a tracking number per package, any other carrier needs
    `tracking_numbers`, one per package in packing order.
    """
    shipment = app.packing.ship(
        shipment_id,
        body.carrier,
        body.tracking_number,
        service=body.service,
        tracking_numbers=body.tracking_numbers,
    )
    return ShipmentPublic.model_validate(shipment)


@router.post(
    "/{shipment_id}/packages",
    response_model=PackageCreated,
    status_code=201,
    responses=problems(409)
    | links(201, *PACKAGE_OPERATIONS, "DELETE /v1/shipments/{shipment_id}/packages/{package_id}"),
)
def add_package(
    shipment_id: UUID, body: PackageCreate, app: AppDep, idempotency_key: IdempotencyKey = None
) -> PackageCreated:
    """Picked units go into a box; it gets its SSCC. Anything not picked is refused.

    Barcodes scanned off the units (`scans`) are checked: the SKU itself or a GTIN the
    catalogue knows for it; another item's barcode is refused (422) and nothing is packed.
    """
    shipment, package = app.packing.add_package(
        shipment_id,
        body.item_lines(),
        body.weight_grams,
        body.dimensions(),
        idempotency_key,
        scans=body.scans(),
    )
    return PackageCreated.of(shipment, package)


@router.delete(
    "/{shipment_id}/packages/{package_id}", response_model=ShipmentPublic, responses=problems(409)
)
def remove_package(shipment_id: UUID, package_id: UUID, app: AppDep) -> ShipmentPublic:
    """Unpack a box that has not shipped (its SSCC is not used again)."""
    return ShipmentPublic.model_validate(app.packing.remove_package(shipment_id, package_id))


@router.get("/{shipment_id}/rates", response_model=list[RateQuote], responses=problems(409))
def rates(shipment_id: UUID, app: AppDep) -> list[RateQuote]:
    """What each rate-table carrier charges for the packed shipment, per service."""
    return [RateQuote.model_validate(quote) for quote in app.packing.quote(shipment_id)]


@router.get("/{shipment_id}/packing-slip.pdf", responses=DOCUMENT_RESPONSES | problems(409))
def packing_slip(shipment_id: UUID, app: AppDep) -> Response:
    """The packing slip: what is in this shipment and what follows; no prices."""
    doc = packing_slip_document(app.printing.packing_slip(shipment_id))
    return document(render_packing_slip(doc), PDF, f"packing-slip-{shipment_id}.pdf")


@router.get("/{shipment_id}/labels.pdf", responses=LABEL_RESPONSES)
def labels_pdf(shipment_id: UUID, app: AppDep) -> Response:
    """Every package label of the shipped shipment, one 4x6 in. page each; labels bought from
    a carrier exactly as it sent them; for a shipment the order's channel arranged (Shopee's
    logistics), the channel's airway bill as it sent it, from the moment it came (before the
    parcel leaves: it goes on the box)."""
    channel_label = app.printing.channel_label(shipment_id)
    if channel_label is not None:
        if channel_label["media_type"] != PDF:
            raise Problem(
                409,
                "Label not ready",
                f"the channel's label of shipment {shipment_id} is"
                f" {channel_label['media_type']}, not a PDF",
            )
        content = base64.b64decode(channel_label["document_base64"])
        return document(content, PDF, f"labels-{shipment_id}.pdf")
    papers = app.printing.labels(shipment_id)
    booking = app.bookings.get(shipment_id)
    if booking is not None:
        return document(merge_pdfs(printed(booking, PDF)), PDF, f"labels-{shipment_id}.pdf")
    labels = label_documents(papers)
    return document(render_labels(labels), PDF, f"labels-{shipment_id}.pdf")


@router.get("/{shipment_id}/labels.zpl", responses=LABEL_RESPONSES)
def labels_zpl(shipment_id: UUID, app: AppDep) -> Response:
    """Every package label of the shipped shipment as ZPL II (203 dpi); labels bought from a
    carrier exactly as it sent them."""
    channel_label = app.printing.channel_label(shipment_id)
    if channel_label is not None:
        raise Problem(
            409,
            "Label not ready",
            f"shipment {shipment_id} prints its channel's {channel_label['document_type']}"
            f" ({channel_label['media_type']}): GET its labels.pdf",
        )
    papers = app.printing.labels(shipment_id)
    booking = app.bookings.get(shipment_id)
    if booking is not None:
        return document(join_zpl(printed(booking, ZPL)), ZPL, f"labels-{shipment_id}.zpl")
    labels = label_documents(papers)
    return document(render_zpl(labels), ZPL, f"labels-{shipment_id}.zpl")


@router.get("/{shipment_id}/carrier", response_model=CarrierRecord)
def carrier_record(shipment_id: UUID, app: AppDep) -> CarrierRecord:
    """How the shipment went with its carrier: labels bought (the rate and why), or our own
    labels and whether channels are told the tracking numbers; the carrier's tracking."""
    shipment = app.get_shipment(shipment_id)
    return CarrierRecord.of(shipment, app.bookings.get(shipment_id))
