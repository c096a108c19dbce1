"""Fulfillment domain: shipments, pick lists, bins, serial numbers, GS1 numbers.

stdlib + eventsourcing.domain only; one module per aggregate, imported from here.
"""

from services.fulfillment_service.domain.bins import BinAssignment, bin_key, pick_path_key
from services.fulfillment_service.domain.catalogue import (
    CatalogueItem,
    ScanMismatchError,
    catalogue_item_id_for,
    check_scan,
    items_weight,
    labels_of,
    rated_packages,
)
from services.fulfillment_service.domain.errors import (
    CarrierError,
    LabelNotReadyError,
    NothingToPickError,
    PackageConflictError,
    PackageNotFoundError,
    PackingMismatchError,
    PickConfirmationError,
    PickLineAlreadyConfirmedError,
    PickListClosedError,
    PickListNotFoundError,
    ShipmentAlreadyShippedError,
    ShipmentCancelledError,
    ShipmentError,
    ShipmentNotFoundError,
    ShipmentNotPackableError,
    ShipmentNotShippableError,
)
from services.fulfillment_service.domain.gs1 import SsccFormat, check_digit, is_valid_sscc
from services.fulfillment_service.domain.ids import (
    bin_id_for,
    location_address_id_for,
    order_shipments_id_for,
    package_id_for,
    pick_list_id_for,
    serial_counter_id_for,
    shipment_id_for,
)
from services.fulfillment_service.domain.order_shipments import OrderShipments
from services.fulfillment_service.domain.pick_list import PickList, distribute, plan_pick_list
from services.fulfillment_service.domain.serials import SerialCounter
from services.fulfillment_service.domain.shipment import Shipment
from services.fulfillment_service.domain.sites import LocationAddress
from services.fulfillment_service.domain.statuses import (
    TRANSITIONS,
    PickListStatus,
    ShipmentStatus,
)
from services.fulfillment_service.domain.units import description_of, plan_shipments, sum_items
from services.fulfillment_service.domain.values import (
    Address,
    Allocation,
    ChannelLabel,
    Dimensions,
    ItemLine,
    OrderRef,
    OrderSummary,
    Package,
    PickConfirmation,
    PickedLine,
    PickLine,
    RateQuote,
    ShipFrom,
    ShippedPackage,
    Slot,
    SlotRequest,
    SlotShare,
    TrackingAssignment,
)

# Every aggregate whose events are stored: each of their event classes needs a publishing
# decision (integration.PUBLISHES), checked when the service starts.
AGGREGATES = (
    Shipment,
    PickList,
    BinAssignment,
    OrderShipments,
    SerialCounter,
    CatalogueItem,
    LocationAddress,
)

__all__ = [
    "AGGREGATES",
    "TRANSITIONS",
    "Address",
    "Allocation",
    "BinAssignment",
    "CarrierError",
    "CatalogueItem",
    "ChannelLabel",
    "Dimensions",
    "ItemLine",
    "LabelNotReadyError",
    "LocationAddress",
    "NothingToPickError",
    "OrderRef",
    "OrderShipments",
    "OrderSummary",
    "Package",
    "PackageConflictError",
    "PackageNotFoundError",
    "PackingMismatchError",
    "PickConfirmation",
    "PickConfirmationError",
    "PickLine",
    "PickLineAlreadyConfirmedError",
    "PickList",
    "PickListClosedError",
    "PickListNotFoundError",
    "PickListStatus",
    "PickedLine",
    "RateQuote",
    "ScanMismatchError",
    "SerialCounter",
    "ShipFrom",
    "Shipment",
    "ShipmentAlreadyShippedError",
    "ShipmentCancelledError",
    "ShipmentError",
    "ShipmentNotFoundError",
    "ShipmentNotPackableError",
    "ShipmentNotShippableError",
    "ShipmentStatus",
    "ShippedPackage",
    "Slot",
    "SlotRequest",
    "SlotShare",
    "SsccFormat",
    "TrackingAssignment",
    "bin_id_for",
    "bin_key",
    "catalogue_item_id_for",
    "check_digit",
    "check_scan",
    "description_of",
    "distribute",
    "is_valid_sscc",
    "items_weight",
    "labels_of",
    "location_address_id_for",
    "order_shipments_id_for",
    "package_id_for",
    "pick_list_id_for",
    "pick_path_key",
    "plan_pick_list",
    "plan_shipments",
    "rated_packages",
    "serial_counter_id_for",
    "shipment_id_for",
    "sum_items",
]
