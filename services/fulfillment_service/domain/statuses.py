"""Statuses of shipments and pick lists, and the shipment lifecycle as a state machine."""

from __future__ import annotations

from enum import StrEnum


class ShipmentStatus(StrEnum):
    """Where a shipment is between confirmation and the carrier."""

    OPEN = "open"
    PICKING = "picking"
    PICKED = "picked"
    # Picking found nothing at all for the shipment; it waits for the order to be resolved
    # (cancelled or re-planned by the order side) and can neither be packed nor shipped.
    SHORT = "short"
    PACKED = "packed"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class PickListStatus(StrEnum):
    """A pick list is open until every line is confirmed (completed) or it is cancelled."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_S = ShipmentStatus
# Status -> the statuses a shipment may move to from it.
TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    _S.OPEN: frozenset({_S.PICKING, _S.SHIPPED, _S.CANCELLED}),
    _S.PICKING: frozenset({_S.OPEN, _S.PICKED, _S.SHORT, _S.CANCELLED}),
    _S.PICKED: frozenset({_S.PACKED, _S.SHIPPED, _S.CANCELLED}),
    _S.SHORT: frozenset({_S.CANCELLED}),
    _S.PACKED: frozenset({_S.PICKED, _S.SHIPPED, _S.CANCELLED}),
    _S.SHIPPED: frozenset(),
    _S.CANCELLED: frozenset(),
}

# Why a shipment in a status other than picked takes no package.
NOT_PACKABLE = {
    _S.OPEN: "is not picked yet: put it on a pick list first",
    _S.PICKING: "is still being picked",
    _S.SHORT: "had nothing picked",
    _S.PACKED: "is fully packed: every picked unit is in a package",
}

# Why a shipment past open keeps its ship-to (picking started, or it left).
SHIP_TO_FIXED = {
    _S.PICKING: "is being picked",
    _S.PICKED: "is picked",
    _S.SHORT: "was picked",
    _S.PACKED: "is packed",
    _S.SHIPPED: "has shipped",
}
