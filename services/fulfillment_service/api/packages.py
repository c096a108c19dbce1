"""Packages: look one up, print its label (PDF or ZPL)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from services.fulfillment_service.api.deps import (
    DOCUMENT_RESPONSES,
    PDF,
    ZPL,
    AppDep,
    ViewsDep,
    document,
)
from services.fulfillment_service.application.bookings import printed
from services.fulfillment_service.documents import label_documents, render_labels, render_zpl
from services.fulfillment_service.documents.models import LabelDocument
from services.fulfillment_service.schemas import PackageDetail
from shared.runtime.api import Problem, problems

router = APIRouter(prefix="/packages", tags=["packages"])


@router.get("/{package_id}", response_model=PackageDetail)
def get_package(package_id: UUID, views: ViewsDep) -> PackageDetail:
    """One package with its SSCC, contents and (once shipped) tracking number."""
    row = views.get_package(package_id)
    if row is None:
        raise Problem(404, "Package not found", f"no package {package_id}")
    return PackageDetail.model_validate(row)


@router.get("/{package_id}/label.pdf", responses=DOCUMENT_RESPONSES | problems(409))
def label_pdf(package_id: UUID, app: AppDep, views: ViewsDep) -> Response:
    """The package's 4x6 in. shipping label as PDF (a carrier's as it sent it)."""
    label = _label(package_id, app, views)
    bought = _bought(package_id, app, views, PDF)
    if bought is not None:
        return document(bought, PDF, f"label-{label.sscc}.pdf")
    return document(render_labels([label]), PDF, f"label-{label.sscc}.pdf")


@router.get("/{package_id}/label.zpl", responses=DOCUMENT_RESPONSES | problems(409))
def label_zpl(package_id: UUID, app: AppDep, views: ViewsDep) -> Response:
    """The package's shipping label as ZPL II for a 203 dpi thermal printer (a carrier's as
    it sent it)."""
    label = _label(package_id, app, views)
    bought = _bought(package_id, app, views, ZPL)
    if bought is not None:
        return document(bought, ZPL, f"label-{label.sscc}.zpl")
    return document(render_zpl([label]), ZPL, f"label-{label.sscc}.zpl")


def _label(package_id: UUID, app: AppDep, views: ViewsDep) -> LabelDocument:
    # The package view knows which shipment the package is in; the shipment has the label.
    row = views.get_package(package_id)
    if row is None:
        raise Problem(404, "Package not found", f"no package {package_id}")
    papers = app.printing.package_label(row["shipment_id"], package_id)
    [label] = label_documents(papers, only=str(package_id))
    return label


def _bought(package_id: UUID, app: AppDep, views: ViewsDep, media_type: str) -> bytes | None:
    """The label the carrier sold for this package, if its labels were bought."""
    row = views.get_package(package_id)
    booking = app.bookings.get(row["shipment_id"]) if row else None
    if booking is None:
        return None
    [label] = printed(booking, media_type, str(package_id))
    return label
