"""Packages: look one up, print its label (PDF or ZPL); and the bins of a location."""

from __future__ import annotations

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
from services.fulfillment_service.documents import label_documents, render_labels, render_zpl
from services.fulfillment_service.documents.models import LabelDocument
from services.fulfillment_service.schemas import BinPublic, BinsPublic, PackageDetail
from services.fulfillment_service.schemas.pick_lists import LocationId
from shared.runtime.api import Problem

router = APIRouter(tags=["packages"])


@router.get("/packages/{package_id}", response_model=PackageDetail)
def get_package(package_id: UUID, views: ViewsDep) -> PackageDetail:
    """One package with its SSCC, contents and (once shipped) tracking number."""
    row = views.get_package(package_id)
    if row is None:
        raise Problem(404, "Package not found", f"no package {package_id}")
    return PackageDetail.model_validate(row)


@router.get("/packages/{package_id}/label.pdf", responses=DOCUMENT_RESPONSES)
def label_pdf(package_id: UUID, app: AppDep, views: ViewsDep) -> Response:
    """The package's 4x6 in. shipping label as PDF."""
    label = _label(package_id, app, views)
    return document(render_labels([label]), PDF, f"label-{label.sscc}.pdf")


@router.get("/packages/{package_id}/label.zpl", responses=DOCUMENT_RESPONSES)
def label_zpl(package_id: UUID, app: AppDep, views: ViewsDep) -> Response:
    """The package's shipping label as ZPL II for a 203 dpi thermal printer."""
    label = _label(package_id, app, views)
    return document(render_zpl([label]), ZPL, f"label-{label.sscc}.zpl")


def _label(package_id: UUID, app: AppDep, views: ViewsDep) -> LabelDocument:
    row = views.get_package(package_id)
    if row is None:
        raise Problem(404, "Package not found", f"no package {package_id}")
    shipment = app.labelled_shipment(row["shipment_id"])
    labels = label_documents(
        shipment, app.ship_from.address(shipment.location_id), only=str(package_id)
    )
    if not labels:  # unpacked since the read model last looked
        raise Problem(404, "Package not found", f"no package {package_id}")
    return labels[0]


@router.get("/locations/{location_id}/bins", response_model=BinsPublic, tags=["bins"])
def list_bins(
    location_id: LocationId,
    views: ViewsDep,
    sku: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> BinsPublic:
    """Where each SKU lives at the location, as inventory last said."""
    rows, total = views.list_bins(location_id=location_id, sku=sku, limit=limit, offset=offset)
    return BinsPublic(
        data=[BinPublic.model_validate(r) for r in rows], count=total, limit=limit, offset=offset
    )
