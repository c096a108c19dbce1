"""The ship_order body for the shop's logistics mode, from get_shipping_parameter's answer."""

from __future__ import annotations

import pytest

from services.channel_gateway.channels.http import PermanentChannelError
from services.channel_gateway.channels.shopee.logistics import ship_body

SLOTS = [
    {"date": 1639558800, "pickup_time_id": "1639558800"},
    {"date": 1639472400, "pickup_time_id": "1639472400"},
]
PARAMETER = {
    "info_needed": {"pickup": ["address_id", "pickup_time_id"], "dropoff": []},
    "pickup": {
        "address_list": [
            {"address_id": 2826, "address_flag": ["default_address"], "time_slot_list": SLOTS},
            {"address_id": 3019, "address_flag": ["pickup_address"], "time_slot_list": SLOTS},
        ]
    },
    "dropoff": {"branch_list": None},
}


def test_pickup_takes_the_flagged_pickup_address_and_its_earliest_slot():
    body = ship_body("SN1", {"mode": "pickup"}, PARAMETER)

    assert body == {
        "order_sn": "SN1",
        "pickup": {"address_id": 3019, "pickup_time_id": "1639472400"},
    }


def test_pickup_at_a_configured_address_shopee_does_not_list_is_refused():
    with pytest.raises(PermanentChannelError, match="no address 1"):
        ship_body("SN1", {"mode": "pickup", "address_id": 1}, PARAMETER)


def test_pickup_without_a_time_slot_is_refused_with_shopees_reason():
    no_slots = {
        **PARAMETER,
        "pickup": {"address_list": [{"address_id": 2826, "time_slot_list": []}]},
    }

    with pytest.raises(PermanentChannelError, match="no pickup time"):
        ship_body("SN1", {"mode": "pickup"}, no_slots)


def test_a_dropoff_that_needs_nothing_sends_dropoff_empty_as_shopee_asks():
    assert ship_body("SN1", {"mode": "dropoff"}, PARAMETER) == {"order_sn": "SN1", "dropoff": {}}


def test_a_mode_shopee_does_not_offer_for_the_order_is_refused():
    pickup_only = {**PARAMETER, "info_needed": {"pickup": ["address_id", "pickup_time_id"]}}

    with pytest.raises(PermanentChannelError, match="does not offer dropoff"):
        ship_body("SN1", {"mode": "dropoff"}, pickup_only)
