"""Pick lists: batch open shipments along the pick path, confirm picks, print the list."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response

from services.fulfillment_service.api.deps import (
    DOCUMENT_RESPONSES,
    PDF,
    ZPL,
    AppDep,
    IdempotencyKey,
    ViewsDep,
    document,
)
from services.fulfillment_service.documents import (
    label_documents,
    pick_list_document,
    render_labels,
    render_pick_list,
    render_zpl,
)
from services.fulfillment_service.documents.sources import description_of
from services.fulfillment_service.schemas import (
    PickListCancel,
    PickListConfirm,
    PickListCreate,
    PickListPublic,
    PickListsPublic,
    PickListSummary,
)
from services.fulfillment_service.schemas.pick_lists import LocationId
from shared.runtime.application import retry_on_conflict

PickListStatus = Literal["open", "completed", "cancelled"]
router = APIRouter(prefix="/pick-lists", tags=["pick lists"])
# Read a few more candidates than slots: the read model may still show some as open.
CANDIDATE_MARGIN = 50


@router.post("", response_model=PickListPublic, status_code=201)
def create_pick_list(
    body: PickListCreate,
    app: AppDep,
    views: ViewsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PickListPublic:
    """The oldest open shipments at the location, not on another list, batched into one walk."""
    candidates = views.open_shipment_ids(body.location_id, body.max_shipments + CANDIDATE_MARGIN)
    pick_list, created = retry_on_conflict(
        app.create_pick_list,
        body.location_id,
        candidates,
        lambda skus: views.bins(body.location_id, skus),
        body.max_shipments,
        body.carrier,
        idempotency_key,
    )
    if not created:
        response.status_code = 200
    return pick_list_public(pick_list)


@router.get("", response_model=PickListsPublic)
def list_pick_lists(
    views: ViewsDep,
    location_id: LocationId | None = None,
    status: PickListStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PickListsPublic:
    """Pick lists, newest first, filtered by location and status."""
    rows, total = views.list_pick_lists(
        location_id=location_id, status=status, limit=limit, offset=offset
    )
    return PickListsPublic(
        data=[PickListSummary.model_validate(r) for r in rows],
        count=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{pick_list_id}", response_model=PickListPublic)
def get_pick_list(pick_list_id: UUID, app: AppDep) -> PickListPublic:
    """One pick list with its lines in pick-path order and what was picked so far."""
    return pick_list_public(app.get_pick_list(pick_list_id))


@router.post("/{pick_list_id}/confirm", response_model=PickListPublic)
def confirm_picks(pick_list_id: UUID, body: PickListConfirm, app: AppDep) -> PickListPublic:
    """Units found per line (some lines or all); picking more than requested is refused.

    Picked units go to the slots first come, first served by slot number. When every line
    is confirmed the list completes: each shipment is picked with what was found, and a
    shipment that got fewer units than it needs is reported short (ShortPicked).
    """
    picks = [line.model_dump() for line in body.lines]
    return pick_list_public(retry_on_conflict(app.confirm_picks, pick_list_id, picks))


@router.post("/{pick_list_id}/cancel", response_model=PickListPublic)
def cancel_pick_list(
    pick_list_id: UUID, app: AppDep, body: Annotated[PickListCancel | None, Body()] = None
) -> PickListPublic:
    """The walk will not happen: its shipments are open again for the next list."""
    reason = (body or PickListCancel()).reason
    return pick_list_public(retry_on_conflict(app.cancel_pick_list, pick_list_id, reason))


@router.get("/{pick_list_id}/document.pdf", responses=DOCUMENT_RESPONSES)
def pick_list_pdf(pick_list_id: UUID, app: AppDep) -> Response:
    """The pick list to print: lines in walking order with bin, SKU, quantity and slots."""
    pick_list = app.get_pick_list(pick_list_id)
    location_name = app.ship_from.address(pick_list.location_id)["name"]
    pdf = render_pick_list(pick_list_document(pick_list, location_name))
    return document(pdf, PDF, f"pick-list-{pick_list_id}.pdf")


@router.get("/{pick_list_id}/labels.pdf", responses=DOCUMENT_RESPONSES)
def pick_list_labels_pdf(pick_list_id: UUID, app: AppDep) -> Response:
    """The labels of every shipped package of the list, by slot: one print job per wave."""
    labels = _labels(app, pick_list_id)
    return document(render_labels(labels), PDF, f"labels-{pick_list_id}.pdf")


@router.get("/{pick_list_id}/labels.zpl", responses=DOCUMENT_RESPONSES)
def pick_list_labels_zpl(pick_list_id: UUID, app: AppDep) -> Response:
    """The same labels as ZPL II for a thermal printer."""
    labels = _labels(app, pick_list_id)
    return document(render_zpl(labels), ZPL, f"labels-{pick_list_id}.zpl")


def _labels(app: Any, pick_list_id: UUID) -> list[Any]:
    return [
        label
        for shipment in app.labelled_shipments_of(pick_list_id)
        for label in label_documents(shipment, app.ship_from.address(shipment.location_id))
    ]


def pick_list_public(pick_list: Any) -> PickListPublic:
    """The pick list as the API shows it, from the aggregate."""
    shares = {
        (shipment_id, pick["sku"]): pick["picked"]
        for shipment_id, picks in pick_list.picks_by_shipment().items()
        for pick in picks
    }
    lines = []
    for line in pick_list.lines:
        sku, confirmed = line["sku"], pick_list.confirmed.get(line["sku"])
        slots = [
            {**slot, "picked": None if confirmed is None else shares[(slot["shipment_id"], sku)]}
            for slot in pick_list.active_slots(line)
        ]
        lines.append(
            {
                "sku": sku,
                "bin": line["bin"],
                "description": description_of(line),
                "quantity": pick_list.requested(line),
                "picked": confirmed,
                "slots": slots,
            }
        )
    dropped = set(pick_list.dropped)
    return PickListPublic(
        pick_list_id=pick_list.id,
        location_id=pick_list.location_id,
        status=pick_list.status,
        carrier=pick_list.carrier,
        slots=[{**s, "dropped": s["shipment_id"] in dropped} for s in pick_list.slots],
        lines=lines,
        created_at=pick_list.created_at,
        completed_at=pick_list.completed_at,
        cancelled_at=pick_list.cancelled_at,
    )
