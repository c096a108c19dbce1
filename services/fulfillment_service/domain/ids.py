"""Ids derived from external references (uuid5), so creating an aggregate twice is harmless."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

SHIPMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/shipments")
ORDER_SHIPMENTS_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/order-shipments")
PICK_LIST_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/pick-lists")
PACKAGE_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/packages")
BIN_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/bins")
SERIAL_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/serials")


def shipment_id_for(
    order_id: UUID, location_id: str, revision: int = 0, part: str | None = None
) -> UUID:
    """The shipment id of an order's part leaving one location, so creation is idempotent;
    after an edit of the order's lines (`revision`), a new one beside the one it replaced; for
    units sourced again (`part`), one of their own."""
    suffix = f":r{revision}" if revision else ""
    if part is not None:
        suffix += f":p{part}"
    return uuid5(SHIPMENT_NAMESPACE, f"{order_id}:{location_id}{suffix}")


def order_shipments_id_for(order_id: UUID) -> UUID:
    """The id of the index of one order's shipments."""
    return uuid5(ORDER_SHIPMENTS_NAMESPACE, str(order_id))


def pick_list_id_for(location_id: str, request_key: str) -> UUID:
    """A pick list id derived from the client's Idempotency-Key, so a retry creates one list."""
    return uuid5(PICK_LIST_NAMESPACE, f"{location_id}:{request_key}")


def package_id_for(shipment_id: UUID, request_key: str) -> UUID:
    """A package id derived from the client's Idempotency-Key, so a retry packs one box."""
    return uuid5(PACKAGE_NAMESPACE, f"{shipment_id}:{request_key}")


def bin_id_for(location_id: str, sku: str) -> UUID:
    """The id of a SKU's bin assignment at a location."""
    return uuid5(BIN_NAMESPACE, f"{location_id}:{sku}")


def serial_counter_id_for(purpose: str) -> UUID:
    """The id of the counter issuing serial numbers for one purpose (SSCC, a carrier)."""
    return uuid5(SERIAL_NAMESPACE, purpose)


LOCATION_ADDRESS_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/location-addresses")


def location_address_id_for(location_id: str) -> UUID:
    """The id of a location's ship-from address, as inventory published it."""
    return uuid5(LOCATION_ADDRESS_NAMESPACE, location_id)
