"""Purchase orders: units on order from suppliers, their expected date, their receipts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.inventory_service.api.deps import AppDep, LocationIdPath, ViewsDep
from services.inventory_service.domain import PurchaseOrderStatus
from services.inventory_service.schemas.supply import (
    PurchaseOrderCreate,
    PurchaseOrderPublic,
    PurchaseOrderReceipt,
    PurchaseOrderReschedule,
    PurchaseOrdersPublic,
    lines_of,
)
from shared.runtime.api import PageQuery, links, page_query, problems

router = APIRouter(prefix="/purchase-orders", tags=["purchase orders"])

PoIdPath = LocationIdPath  # the same alphabet: letters, digits, ".", "_", "-"

PO_OPERATIONS = (
    "GET /v1/purchase-orders/{po_id}",
    "PATCH /v1/purchase-orders/{po_id}",
    "POST /v1/purchase-orders/{po_id}/receipts",
)


@router.post(
    "",
    response_model=PurchaseOrderPublic,
    status_code=201,
    responses={200: {"model": PurchaseOrderPublic, "description": "Already placed"}}
    | problems(404, 409)
    | links(201, *PO_OPERATIONS),
)
def place_purchase_order(
    body: PurchaseOrderCreate, app: AppDep, response: Response
) -> PurchaseOrderPublic:
    """Record units on order for a location (201): shown as on_order, and backordered orders
    are promised its expected date. The same purchase order again answers 200 (a new
    expected_at moves it); other lines, location or supplier under its id: 409."""
    order, created = app.purchase_orders.place(
        body.po_id, body.location_id, body.supplier, lines_of(body.lines), body.expected_at
    )
    response.status_code = 201 if created else 200
    return PurchaseOrderPublic.of(order)


@router.get(
    "", response_model=PurchaseOrdersPublic, responses=links(200, *PO_OPERATIONS, at="/data/0")
)
def list_purchase_orders(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query(default=50, maximum=500)],
    status: PurchaseOrderStatus | None = None,
    location_id: Annotated[str | None, Query(max_length=64)] = None,
    supplier: Annotated[str | None, Query(max_length=200)] = None,
) -> PurchaseOrdersPublic:
    """Purchase orders, the soonest expected first, optionally by status, location or supplier."""
    rows, total = views.list_purchase_orders(
        status=status,
        location_id=location_id,
        supplier=supplier,
        limit=page.limit,
        offset=page.offset,
    )
    return PurchaseOrdersPublic.of([PurchaseOrderPublic.of_row(r) for r in rows], total, page)


@router.get("/{po_id}", response_model=PurchaseOrderPublic)
def get_purchase_order(po_id: PoIdPath, app: AppDep) -> PurchaseOrderPublic:
    """A purchase order: what was ordered, what arrived, what is still on order."""
    return PurchaseOrderPublic.of(app.purchase_orders.get(po_id))


@router.patch("/{po_id}", response_model=PurchaseOrderPublic)
def reschedule_purchase_order(
    po_id: PoIdPath, body: PurchaseOrderReschedule, app: AppDep
) -> PurchaseOrderPublic:
    """The supplier names another time: what is still on order is expected then, and the
    promise dates of the orders waiting for it move with it."""
    return PurchaseOrderPublic.of(app.purchase_orders.reschedule(po_id, body.expected_at))


@router.post(
    "/{po_id}/receipts",
    response_model=PurchaseOrderPublic,
    status_code=201,
    responses=problems(409),
)
def receive_purchase_order(
    po_id: PoIdPath, body: PurchaseOrderReceipt, app: AppDep
) -> PurchaseOrderPublic:
    """Units of a purchase order arrived (in parts if need be): on hand at its location grows
    and waiting orders are served. More than is still on order: 409. The same receipt_id
    again records nothing (and answers the purchase order as it is)."""
    return PurchaseOrderPublic.of(
        app.purchase_orders.receive(po_id, body.receipt_id, lines_of(body.lines))
    )
