"""Fulfillment HTTP API: query shipments and mark them shipped."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from services.fulfillment_service import domain
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.schemas import ShipmentPublic, ShipmentShip, ShipmentsPublic
from services.fulfillment_service.views import ShipmentViews
from shared.runtime.api import Problem
from shared.runtime.application import retry_on_conflict

Status = Literal["open", "shipped", "cancelled"]
ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    domain.ShipmentNotFoundError: (404, "Shipment not found"),
    domain.ShipmentNotShippableError: (409, "Shipment not shippable"),
    domain.ShipmentAlreadyShippedError: (409, "Shipment already shipped"),
}


def get_app(request: Request) -> Shipments:
    """The Shipments application of this process."""
    return request.app.state.shipments


def get_views(request: Request) -> ShipmentViews:
    """The shipment read model of this process."""
    return request.app.state.views


AppDep = Annotated[Shipments, Depends(get_app)]
ViewsDep = Annotated[ShipmentViews, Depends(get_views)]
router = APIRouter(prefix="/shipments", tags=["shipments"])


@router.get("", response_model=ShipmentsPublic)
def list_shipments(
    views: ViewsDep,
    order_id: UUID | None = None,
    status: Status | None = None,
    location_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ShipmentsPublic:
    """Shipments, oldest first, filtered by order, status and location."""
    rows, total = views.list_shipments(
        order_id=order_id, status=status, location_id=location_id, limit=limit, offset=offset
    )
    return ShipmentsPublic(
        data=[ShipmentPublic.model_validate(r) for r in rows],
        count=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{shipment_id}", response_model=ShipmentPublic)
def get_shipment(shipment_id: UUID, views: ViewsDep) -> ShipmentPublic:
    """One shipment."""
    row = views.get_shipment(shipment_id)
    if row is None:
        raise Problem(404, "Shipment not found", f"no shipment {shipment_id}")
    return ShipmentPublic.model_validate(row)


@router.post("/{shipment_id}/ship", response_model=ShipmentPublic)
def ship_shipment(shipment_id: UUID, body: ShipmentShip, app: AppDep) -> ShipmentPublic:
    """The shipment left with a carrier; repeating it with the same tracking number is harmless."""
    shipment = retry_on_conflict(app.ship, shipment_id, body.carrier, body.tracking_number)
    return ShipmentPublic.model_validate(shipment)
