"""The gateway's request models bound every integer and take only what the schema says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from services.channel_gateway.schemas import ChannelCreate, ChannelOrderCreate, ImportRequest
from tests.factories_channel_gateway import canonical_order

CHANNELS: TypeAdapter[Any] = TypeAdapter(ChannelCreate)


def test_an_order_line_of_more_than_a_million_units_is_refused():
    line = {"sku": "TEE", "quantity": 1_000_000, "unit_price": "1.00"}
    assert ChannelOrderCreate.model_validate_json(_json(canonical_order(lines=[line])))
    for quantity in (1_000_001, 10**30):
        order = canonical_order(lines=[line | {"quantity": quantity}])
        with pytest.raises(ValidationError, match="less than or equal to 1000000"):
            ChannelOrderCreate.model_validate_json(_json(order))


def test_optional_texts_of_an_order_may_be_null_blank_or_bounded_text():
    # Schemathesis found a null phone, state or line title answered 500: the text constraints were
    # applied to `str | None` as a whole, which pydantic rejects with a TypeError, not a 422.
    order = canonical_order()
    optional = {"phone": None, "company": None, "state": "  ", "state_code": None}
    order["shipping_address"] |= optional
    order["customer"] |= {"phone": None}
    order["lines"] = [order["lines"][0] | {"line_id": None, "title": None, "variant_title": ""}]
    accepted = ChannelOrderCreate.model_validate_json(_json(order))
    assert accepted.shipping_address.state is None
    assert accepted.lines[0].title is None
    order["shipping_address"]["state_code"] = "Kentucky"
    with pytest.raises(ValidationError, match="state_code"):
        ChannelOrderCreate.model_validate_json(_json(order))


def test_require_sku_mapping_is_a_json_boolean_not_a_number():
    # Schemathesis found 0 accepted as false: the schema says boolean.
    channel = {"channel_id": "mail", "kind": "mail"}
    assert CHANNELS.validate_json(_json(channel | {"require_sku_mapping": False}))
    with pytest.raises(ValidationError, match="boolean"):
        CHANNELS.validate_json(_json(channel | {"require_sku_mapping": 0}))


def test_shopee_ids_fit_in_64_bits():
    shopee = {
        "channel_id": "shopee-th",
        "kind": "shopee",
        "partner_id": 2**63 - 1,
        "shop_id": 1,
        "partner_key": "k",
        "access_token": "t",
    }
    assert CHANNELS.validate_json(_json(shopee))
    with pytest.raises(ValidationError, match="less than or equal to"):
        CHANNELS.validate_json(_json(shopee | {"partner_id": 2**63}))


def test_an_import_row_number_is_bounded():
    rows = [{"line": 1_000_001, "fields": {"order_ref": "P-1"}}]
    with pytest.raises(ValidationError, match="less than or equal to 1000000"):
        ImportRequest.model_validate({"channel": "phone", "rows": rows})


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value)


def test_an_amazon_start_is_a_date_time_string_not_a_number():
    # Schemathesis found start_after: 0 accepted (as 1970); "0" was too.
    amazon = {
        "channel_id": "amazon-de",
        "kind": "amazon",
        "marketplace_id": "A1PA6795UKMFR9",
        "seller_id": "S1",
        "lwa_client_id": "c",
        "lwa_client_secret": "s",
        "refresh_token": "r",
    }
    for start in ("2026-11-28T00:00:00Z", "2026-11-28T00:00:00", None):
        assert CHANNELS.validate_json(_json(amazon | {"start_after": start}))
    for start in (0, "0", "1764288000", "yesterday"):
        with pytest.raises(ValidationError, match="RFC 3339"):
            CHANNELS.validate_json(_json(amazon | {"start_after": start}))


def test_a_sku_on_two_lines_at_the_same_or_different_prices_is_taken_as_two_lines():
    # Lines are never merged: a channel may sell one SKU on two lines (one discounted, say).
    tee = {"sku": "TEE-ORG-BLK-M", "quantity": 1, "unit_price": "24.90"}
    lines = [tee, tee | {"line_id": "2"}, tee | {"unit_price": "12.45", "title": "Tee, -50 %"}]

    order = ChannelOrderCreate.model_validate_json(_json(canonical_order(lines=lines))).canonical()

    assert [(x["sku"], x["unit_price"]) for x in order["lines"]] == [
        ("TEE-ORG-BLK-M", "24.90"),
        ("TEE-ORG-BLK-M", "24.90"),
        ("TEE-ORG-BLK-M", "12.45"),
    ]
    assert order["lines"][1]["line_id"] == "2"
