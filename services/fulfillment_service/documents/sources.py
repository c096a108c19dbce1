"""Documents filled from the papers the application hands out (application.printing)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from services.fulfillment_service.application import PickListPapers, ShipmentPapers
from services.fulfillment_service.documents.models import (
    LabelDocument,
    PackingSlipDocument,
    PickLine,
    PickListDocument,
    SlipLine,
)
from services.fulfillment_service.domain import ItemLine, Shipment, description_of


def pick_list_document(papers: PickListPapers) -> PickListDocument:
    """The pick list as printed: only units still to pick (cancelled shipments are gone)."""
    pick_list = papers.pick_list
    lines = []
    for line in pick_list.lines:
        slots = pick_list.active_slots(line)
        if slots:
            lines.append(
                PickLine(
                    sku=line["sku"],
                    bin=line["bin"],
                    description=description_of(line["sku"], papers.labels),
                    quantity=sum(s["quantity"] for s in slots),
                    slots=tuple((s["slot"], s["quantity"]) for s in slots),
                )
            )
    active = set(pick_list.shipment_ids)
    return PickListDocument(
        pick_list_id=str(pick_list.id),
        location_id=pick_list.location_id,
        location_name=papers.location_name,
        created_at=pick_list.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        carrier=pick_list.carrier,
        status=pick_list.status,
        lines=tuple(lines),
        slots=tuple(
            (s["slot"], s.get("order_number") or s["order_id"], s["shipment_id"])
            for s in pick_list.slots
            if s["shipment_id"] in active
        ),
    )


def order_number_of(shipment: Shipment) -> str:
    """The number the customer knows (the channel's own, #1001, where the order has one), else
    the order id."""
    return str(shipment.order_number or shipment.order_id)


def packing_slip_document(papers: ShipmentPapers) -> PackingSlipDocument:
    """Ordered, in this shipment and still to follow, per SKU of the order."""
    shipment = papers.shipment
    ordered_lines = shipment.order.get("lines") or shipment.lines
    ordered = Counter({line["sku"]: 0 for line in ordered_lines})
    for line in ordered_lines:
        ordered[line["sku"]] += line["quantity"]
    here = shipment.leaving_units()
    placed_at = shipment.order.get("placed_at")
    return PackingSlipDocument(
        shipment_id=str(shipment.id),
        order_number=order_number_of(shipment),
        order_date=placed_at[:10] if placed_at else shipment.created_at.strftime("%Y-%m-%d"),
        ship_from=papers.ship_from,
        ship_to=shipment.ship_to,
        lines=tuple(
            SlipLine(
                sku=sku,
                description=description_of(sku, papers.labels),
                ordered=quantity,
                in_shipment=here[sku],
                to_follow=max(0, quantity - here[sku] - papers.shipped_elsewhere[sku]),
            )
            for sku, quantity in ordered.items()
        ),
        packages=tuple(
            (p["sscc"], p["weight_grams"], p.get("tracking_number")) for p in shipment.packages
        ),
        carrier=shipment.carrier,
        note=shipment.order.get("note"),
    )


def label_documents(papers: ShipmentPapers, only: str | None = None) -> list[LabelDocument]:
    """The labels of a shipped shipment's packages (or of one of them)."""
    shipment = papers.shipment
    count = len(shipment.packages)
    # Papers for labels come from shipped shipments (Shipment.check_labels): every package
    # has its tracking number and the shipment its carrier.
    return [
        LabelDocument(
            ship_from=papers.ship_from,
            ship_to=shipment.ship_to,
            carrier=shipment.carrier or "",
            service=shipment.service,
            tracking_number=package.get("tracking_number") or "",
            sscc=package["sscc"],
            package_number=number,
            package_count=count,
            weight_grams=package["weight_grams"],
            order_number=order_number_of(shipment),
            shipment_id=str(shipment.id),
            contents=contents_of(package["items"], papers.labels),
        )
        for number, package in enumerate(shipment.packages, start=1)
        if only is None or package["package_id"] == only
    ]


def contents_of(items: list[ItemLine], labels: Mapping[str, str]) -> str:
    """A package's contents in one line, by name where the catalogue knows it: "2 x Tee (M)"."""
    return "; ".join(
        f"{item['quantity']} x {description_of(item['sku'], labels)}" for item in items
    )
