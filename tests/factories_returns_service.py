"""Test data only the returns service needs: an order shipped from two locations at two prices."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from shared import events as ev
from tests import factories

TEE, MUG = "TEE-ORG-BLK-M", "MUG-ENM-350-WHT"


def shipment_ref(location_id: str, quantities: dict[str, int], **overrides: Any) -> dict:
    """One shipment of an OrderShipped: `quantities` left `location_id`."""
    return {
        "shipment_id": uuid4(),
        "location_id": location_id,
        "carrier": "oms-parcel",
        "tracking_number": f"TRK{uuid4().hex[:10].upper()}",
        "lines": factories.item_quantities(quantities),
        **overrides,
    }


def order_shipped_from_two_locations(order_id: UUID | None = None) -> ev.OrderShipped:
    """Two TEEs at 24.90 shipped from WH-BER and a MUG at 14.50 from WH-HAM.

    Refunds differ per SKU and received units go back to different locations.
    """
    return factories.order_shipped(
        order_id,
        lines=factories.lines({TEE: 2}, "24.90") + factories.lines({MUG: 1}, "14.50"),
        shipments=[shipment_ref("WH-BER", {TEE: 2}), shipment_ref("WH-HAM", {MUG: 1})],
    )
