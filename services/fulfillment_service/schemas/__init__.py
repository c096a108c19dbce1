"""HTTP request and response models of the fulfillment API."""

from services.fulfillment_service.schemas.carriers import CarrierRecord, WebhookAnswer
from services.fulfillment_service.schemas.pick_lists import (
    BinPublic,
    BinsPublic,
    PickListCancel,
    PickListConfirm,
    PickListCreate,
    PickListPublic,
    PickListsPublic,
    PickListSummary,
)
from services.fulfillment_service.schemas.shipments import (
    PackageCreate,
    PackageDetail,
    PackagePublic,
    RateQuote,
    ShipmentPublic,
    ShipmentShip,
    ShipmentsPublic,
)

__all__ = [
    "BinPublic",
    "BinsPublic",
    "CarrierRecord",
    "PackageCreate",
    "PackageDetail",
    "PackagePublic",
    "PickListCancel",
    "PickListConfirm",
    "PickListCreate",
    "PickListPublic",
    "PickListSummary",
    "PickListsPublic",
    "RateQuote",
    "ShipmentPublic",
    "ShipmentShip",
    "ShipmentsPublic",
    "WebhookAnswer",
]
