"""Pick lists: batch open shipments along the pick path, confirm picks, print the list."""

from __future__ import annotations

import base64
from functools import partial
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Response

from services.fulfillment_service.api.deps import (
    DOCUMENT_RESPONSES,
    PDF,
    ZPL,
    AppDep,
    ViewsDep,
    document,
)
from services.fulfillment_service.application import ShipmentPapers
from services.fulfillment_service.application.bookings import printed
from services.fulfillment_service.documents import (
    join_zpl,
    label_documents,
    merge_pdfs,
    pick_list_document,
    render_labels,
    render_pick_list,
    render_zpl,
)
from services.fulfillment_service.domain import PickList, PickListStatus
from services.fulfillment_service.schemas import (
    PickListCancel,
    PickListConfirm,
    PickListCreate,
    PickListPublic,
    PickListsPublic,
    PickListSummary,
)
from services.fulfillment_service.schemas.pick_lists import LocationId
from shared.runtime.api import IdempotencyKey, PageQuery, Problem, links, page_query, problems

router = APIRouter(prefix="/pick-lists", tags=["pick lists"])
PICK_LIST_OPERATIONS = (
    "GET /v1/pick-lists/{pick_list_id}",
    "POST /v1/pick-lists/{pick_list_id}/confirm",
    "POST /v1/pick-lists/{pick_list_id}/cancel",
    "GET /v1/pick-lists/{pick_list_id}/document.pdf",
    "GET /v1/pick-lists/{pick_list_id}/labels.pdf",
    "GET /v1/pick-lists/{pick_list_id}/labels.zpl",
)
# The shipment in the list's first slot, and its papers.
SLOT_OPERATIONS = (
    "GET /v1/shipments/{shipment_id}",
    "GET /v1/shipments/{shipment_id}/packing-slip.pdf",
    "GET /v1/shipments/{shipment_id}/labels.pdf",
    "GET /v1/shipments/{shipment_id}/labels.zpl",
)
# Labels exist once a shipment of the list left with a carrier: before that, 409.
LABEL_RESPONSES = DOCUMENT_RESPONSES | problems(409)


@router.post(
    "",
    response_model=PickListPublic,
    status_code=201,
    responses={200: {"model": PickListPublic, "description": "Already created"}}
    | problems(409)
    | links(201, *PICK_LIST_OPERATIONS),
)
def create_pick_list(
    body: PickListCreate,
    app: AppDep,
    views: ViewsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PickListPublic:
    """The oldest open shipments at the location, not on another list, batched into one walk."""
    # The view proposes candidates and bins; the use case checks each candidate is still open.
    pick_list, created = app.picking.create_pick_list(
        body.location_id,
        views.pick_candidates(body.location_id, body.max_shipments),
        partial(views.bins, body.location_id),
        body.max_shipments,
        body.carrier,
        idempotency_key,
    )
    if not created:
        response.status_code = 200
    return PickListPublic.of(pick_list, _names(app, pick_list))


@router.get(
    "", response_model=PickListsPublic, responses=links(200, *PICK_LIST_OPERATIONS, at="/data/0")
)
def list_pick_lists(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query()],
    location_id: LocationId | None = None,
    status: PickListStatus | None = None,
) -> PickListsPublic:
    """Pick lists, newest first, filtered by location and status."""
    rows, total = views.list_pick_lists(
        location_id=location_id, status=status, limit=page.limit, offset=page.offset
    )
    return PickListsPublic.of([PickListSummary.model_validate(r) for r in rows], total, page)


@router.get(
    "/{pick_list_id}",
    response_model=PickListPublic,
    responses=links(200, *SLOT_OPERATIONS, at="/slots/0"),
)
def get_pick_list(pick_list_id: UUID, app: AppDep) -> PickListPublic:
    """One pick list with its lines in pick-path order and what was picked so far."""
    pick_list = app.get_pick_list(pick_list_id)
    return PickListPublic.of(pick_list, _names(app, pick_list))


@router.post("/{pick_list_id}/confirm", response_model=PickListPublic, responses=problems(409))
def confirm_picks(pick_list_id: UUID, body: PickListConfirm, app: AppDep) -> PickListPublic:
    """Units found per line (some lines or all); picking more than requested is refused.

    Picked units go to the slots first come, first served by slot number. When every line
    is confirmed the list completes: each shipment is picked with what was found, and a
    shipment that got fewer units than it needs is reported short (ShortPicked).
    """
    return PickListPublic.of(app.picking.confirm_picks(pick_list_id, body.confirmations()))


@router.post("/{pick_list_id}/cancel", response_model=PickListPublic, responses=problems(409))
def cancel_pick_list(
    pick_list_id: UUID, app: AppDep, body: Annotated[PickListCancel | None, Body()] = None
) -> PickListPublic:
    """The walk will not happen: its shipments are open again for the next list."""
    reason = (body or PickListCancel()).reason
    return PickListPublic.of(app.picking.cancel_pick_list(pick_list_id, reason))


@router.get("/{pick_list_id}/document.pdf", responses=DOCUMENT_RESPONSES)
def pick_list_pdf(pick_list_id: UUID, app: AppDep) -> Response:
    """The pick list to print: lines in walking order with bin, SKU, quantity and slots."""
    pdf = render_pick_list(pick_list_document(app.printing.pick_list(pick_list_id)))
    return document(pdf, PDF, f"pick-list-{pick_list_id}.pdf")


@router.get("/{pick_list_id}/labels.pdf", responses=LABEL_RESPONSES)
def pick_list_labels_pdf(pick_list_id: UUID, app: AppDep) -> Response:
    """The labels of every shipped package of the list, by slot: one print job per wave.
    Labels bought from a carrier and a channel's airway bill go in as they were sent."""
    parts = [
        page
        for papers in app.printing.pick_list_labels(pick_list_id)
        for page in _pdf_labels(app, papers)
    ]
    return document(merge_pdfs(parts), PDF, f"labels-{pick_list_id}.pdf")


@router.get("/{pick_list_id}/labels.zpl", responses=LABEL_RESPONSES)
def pick_list_labels_zpl(pick_list_id: UUID, app: AppDep) -> Response:
    """The same labels as ZPL II for a thermal printer (a carrier's ZPL as it sent it; a
    label that came as a PDF is a 409 naming its shipment: print labels.pdf)."""
    parts = [
        label
        for papers in app.printing.pick_list_labels(pick_list_id)
        for label in _zpl_labels(app, papers)
    ]
    return document(join_zpl(parts), ZPL, f"labels-{pick_list_id}.zpl")


def _pdf_labels(app: AppDep, papers: ShipmentPapers) -> list[bytes]:
    """A shipment's labels as PDFs: its channel's, its carrier's, else ours rendered."""
    shipment_id = papers.shipment.id
    channel_label = app.printing.channel_label(shipment_id)
    if channel_label is not None:
        if channel_label["media_type"] != PDF:
            raise Problem(
                409,
                "Label not ready",
                f"the channel's label of shipment {shipment_id} is"
                f" {channel_label['media_type']}, not a PDF",
            )
        return [base64.b64decode(channel_label["document_base64"])]
    booking = app.bookings.get(shipment_id)
    if booking is not None:
        return printed(booking, PDF)
    return [render_labels(label_documents(papers))]


def _zpl_labels(app: AppDep, papers: ShipmentPapers) -> list[bytes]:
    """A shipment's labels as ZPL: its carrier's as sent, else ours; a channel's is a PDF."""
    shipment_id = papers.shipment.id
    channel_label = app.printing.channel_label(shipment_id)
    if channel_label is not None:
        raise Problem(
            409,
            "Label not ready",
            f"shipment {shipment_id} prints its channel's {channel_label['document_type']}"
            f" ({channel_label['media_type']}): GET the pick list's labels.pdf",
        )
    booking = app.bookings.get(shipment_id)
    if booking is not None:
        return printed(booking, ZPL)
    return [render_zpl(label_documents(papers)).encode()]


def _names(app: AppDep, pick_list: PickList) -> dict[str, str]:
    """What the catalogue calls the list's SKUs, for the lines' descriptions."""
    return app.catalogue.labels(line["sku"] for line in pick_list.lines)
