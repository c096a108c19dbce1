"""Shipments: query, pack into packages, ship with a carrier, print slips and labels."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.fulfillment_service import domain
from services.fulfillment_service.api.deps import (
    DOCUMENT_RESPONSES,
    PDF,
    ZPL,
    AppDep,
    IdempotencyKey,
    ViewsDep,
    document,
    retry_contended,
)
from services.fulfillment_service.documents import (
    label_documents,
    packing_slip_document,
    render_labels,
    render_packing_slip,
    render_zpl,
)
from services.fulfillment_service.schemas import (
    PackageCreate,
    PackagePublic,
    RateQuote,
    ShipmentPublic,
    ShipmentShip,
    ShipmentsPublic,
)
from services.fulfillment_service.schemas.shipments import PackageCreated
from shared.runtime.api import Problem
from shared.runtime.application import retry_on_conflict

Status = Literal["open", "picking", "picked", "short", "packed", "shipped", "cancelled"]
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
    """The shipment leaves with a carrier; the same request again is harmless.

    Without packages: name the carrier and its tracking number. Packed into packages: a
    rate-table carrier issues a tracking number per package, any other carrier needs
    `tracking_numbers`, one per package in packing order.
    """
    shipment = retry_contended(
        app.ship,
        shipment_id,
        body.carrier,
        body.tracking_number,
        service=body.service,
        tracking_numbers=body.tracking_numbers,
    )
    return ShipmentPublic.model_validate(shipment)


@router.post("/{shipment_id}/packages", response_model=PackageCreated, status_code=201)
def add_package(
    shipment_id: UUID, body: PackageCreate, app: AppDep, idempotency_key: IdempotencyKey = None
) -> PackageCreated:
    """Picked units go into a box; it gets its SSCC. Anything not picked is refused."""
    shipment, package = retry_contended(
        app.add_package,
        shipment_id,
        [item.model_dump() for item in body.items],
        body.weight_grams,
        body.dimensions_mm.model_dump(),
        idempotency_key,
    )
    unpacked = shipment.unpacked_units()
    return PackageCreated(
        **PackagePublic.model_validate(package).model_dump(),
        shipment_id=shipment.id,
        shipment_status=shipment.status,
        unpacked=[{"sku": sku, "quantity": n} for sku, n in unpacked.items() if n > 0],
    )


@router.delete("/{shipment_id}/packages/{package_id}", response_model=ShipmentPublic)
def remove_package(shipment_id: UUID, package_id: UUID, app: AppDep) -> ShipmentPublic:
    """Unpack a box that has not shipped (its SSCC is not used again)."""
    shipment = app.get_shipment(shipment_id)
    if shipment.package(package_id) is None:
        raise Problem(404, "Package not found", f"shipment {shipment_id} has no {package_id}")
    shipment = retry_on_conflict(app.remove_package, shipment_id, package_id)
    return ShipmentPublic.model_validate(shipment)


@router.get("/{shipment_id}/rates", response_model=list[RateQuote])
def rates(shipment_id: UUID, app: AppDep) -> list[RateQuote]:
    """What each rate-table carrier charges for the packed shipment, per service."""
    return [RateQuote(**quote) for quote in app.quote(shipment_id)]


@router.get("/{shipment_id}/packing-slip.pdf", responses=DOCUMENT_RESPONSES)
def packing_slip(shipment_id: UUID, app: AppDep) -> Response:
    """The packing slip: what is in this shipment and what follows; no prices."""
    shipment = app.get_shipment(shipment_id)
    if shipment.status == domain.CANCELLED:
        raise Problem(409, "Shipment cancelled", f"shipment {shipment_id} was cancelled")
    doc = packing_slip_document(
        shipment, app.shipped_elsewhere(shipment), app.ship_from.address(shipment.location_id)
    )
    return document(render_packing_slip(doc), PDF, f"packing-slip-{shipment_id}.pdf")


@router.get("/{shipment_id}/labels.pdf", responses=DOCUMENT_RESPONSES)
def labels_pdf(shipment_id: UUID, app: AppDep) -> Response:
    """Every package label of the shipped shipment, one 4x6 in. page each."""
    shipment = app.labelled_shipment(shipment_id)
    labels = label_documents(shipment, app.ship_from.address(shipment.location_id))
    return document(render_labels(labels), PDF, f"labels-{shipment_id}.pdf")


@router.get("/{shipment_id}/labels.zpl", responses=DOCUMENT_RESPONSES)
def labels_zpl(shipment_id: UUID, app: AppDep) -> Response:
    """Every package label of the shipped shipment as ZPL II (203 dpi)."""
    shipment = app.labelled_shipment(shipment_id)
    labels = label_documents(shipment, app.ship_from.address(shipment.location_id))
    return document(render_zpl(labels), ZPL, f"labels-{shipment_id}.zpl")
