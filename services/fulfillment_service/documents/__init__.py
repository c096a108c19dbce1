"""Printed documents: pick lists, packing slips (PDF) and shipping labels (PDF and ZPL II)."""

from services.fulfillment_service.documents.bought import join_zpl, merge_pdfs
from services.fulfillment_service.documents.label_pdf import render_labels
from services.fulfillment_service.documents.label_zpl import render_zpl
from services.fulfillment_service.documents.models import (
    LabelDocument,
    PackingSlipDocument,
    PickLine,
    PickListDocument,
    SlipLine,
)
from services.fulfillment_service.documents.packing_slip import render_packing_slip
from services.fulfillment_service.documents.pick_list import render_pick_list
from services.fulfillment_service.documents.sources import (
    label_documents,
    packing_slip_document,
    pick_list_document,
)

__all__ = [
    "LabelDocument",
    "PackingSlipDocument",
    "PickLine",
    "PickListDocument",
    "SlipLine",
    "join_zpl",
    "label_documents",
    "merge_pdfs",
    "packing_slip_document",
    "pick_list_document",
    "render_labels",
    "render_packing_slip",
    "render_pick_list",
    "render_zpl",
]
