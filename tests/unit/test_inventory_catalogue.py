"""The catalogue: an Item per SKU, GS1 check digits, idempotent puts, ItemChanged (no I/O)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from stdnum import ean

from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import service_events
from services.inventory_service.domain import (
    BarcodeTakenError,
    InvalidItemError,
    Item,
    ItemDetails,
    ItemNotFoundError,
    is_valid_gtin,
)
from services.inventory_service.domain.item import gtin_check_digit
from services.inventory_service.schemas.catalogue import ItemPut
from shared import events as ev

EVENTS = service_events()
EAN13 = "4006381333931"


def details(**changes: Any) -> ItemDetails:
    base = ItemDetails(
        name="Organic cotton tee",
        variant="Black / M",
        gtins=[EAN13],
        weight_grams=180,
        dimensions_mm={"length": 300, "width": 220, "height": 20},
        hs_code="610910",
        country_of_origin="PT",
    )
    return cast(ItemDetails, {**base, **changes})


def published(app: Inventory, after: int = 0) -> list[Any]:
    notifications = app.recorder.select_notifications(after + 1, 10_000)
    mapped = [EVENTS.to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [e for e in mapped if e is not None]


def position(app: Inventory) -> int:
    return app.recorder.max_notification_id() or 0


# -- GS1 check digits --------------------------------------------------------------------------


@given(st.text(alphabet="0123456789", min_size=7, max_size=13))
def test_the_gtin_check_digit_is_python_stdnums(body: str) -> None:
    assert gtin_check_digit(body) == ean.calc_check_digit(body)


@pytest.mark.parametrize("gtin", [EAN13, "96385074", "036000291452", "10012345678902"])
def test_gtin_8_12_13_and_14_with_their_check_digit_are_valid(gtin: str) -> None:
    assert is_valid_gtin(gtin)
    assert ean.is_valid(gtin)


@pytest.mark.parametrize(
    "gtin",
    [
        "4006381333932",
        "400638133393",
        "40063813339311",
        "ABCDEFGHIJKLM",
        "".join(chr(0xFF10 + int(d)) for d in EAN13),  # full-width digits,
    ],
)
def test_a_bad_check_digit_length_or_non_ascii_digits_is_no_gtin(gtin: str) -> None:
    assert not is_valid_gtin(gtin)


# -- the aggregate -----------------------------------------------------------------------------


def test_an_item_refuses_a_gtin_with_a_bad_check_digit() -> None:
    with pytest.raises(InvalidItemError, match="4006381333932"):
        Item.add("TEE", details(gtins=["4006381333932"]))


def test_an_item_refuses_one_barcode_listed_twice_in_two_lengths() -> None:
    with pytest.raises(InvalidItemError, match="twice"):
        Item.add("TEE", details(gtins=[EAN13, "0" + EAN13]))


def test_an_item_refuses_a_weight_of_zero() -> None:
    with pytest.raises(InvalidItemError, match="weight"):
        Item.add("TEE", details(weight_grams=0))


def test_a_stored_item_loads_even_if_todays_rules_would_refuse_its_details() -> None:
    app = Inventory()
    app.save(Item(sku="OLD", details=details(weight_grams=0)))  # stored before the rule
    assert app.catalogue.get_item("OLD").details["weight_grams"] == 0


def test_the_same_details_again_record_nothing_and_new_ones_record_a_change() -> None:
    item = Item.add("TEE", details())
    item.collect_events()
    assert item.update(details()) is False
    assert item.collect_events() == []
    assert item.update(details(name="เสื้อยืดผ้าฝ้าย")) is True
    [changed] = item.collect_events()
    assert isinstance(changed, Item.Changed)
    assert item.details["name"] == "เสื้อยืดผ้าฝ้าย"


# -- use cases and the published event --------------------------------------------------------


def test_a_put_creates_then_changes_and_publishes_item_changed_only_on_a_real_change() -> None:
    app = Inventory()
    _, created, changed = app.catalogue.put_item("TEE", details())
    assert (created, changed) == (True, True)
    first = published(app)
    assert [type(e) for e in first] == [ev.ItemChanged]
    assert first[0].created is True
    assert first[0].partition_key == "TEE"
    assert first[0].gtins == [EAN13]

    mark = position(app)
    _, created, changed = app.catalogue.put_item("TEE", details())
    assert (created, changed) == (False, False)
    assert position(app) == mark

    japanese = details(name="オーガニックコットンTシャツ", variant="黒 / M", gtins=[])
    item, created, changed = app.catalogue.put_item("TEE", japanese)
    assert (created, changed) == (False, True)
    [again] = published(app, mark)
    assert again.name == "オーガニックコットンTシャツ"
    assert again.variant == "黒 / M"
    assert again.gtins == []
    assert again.created is False
    assert item.version == 2
    assert app.catalogue.get_item("TEE").details == japanese


def test_an_unknown_sku_has_no_item() -> None:
    with pytest.raises(ItemNotFoundError):
        Inventory().catalogue.get_item("NOPE")


def test_an_item_with_nothing_but_a_name_publishes_a_valid_event() -> None:
    app = Inventory()
    bare = ItemDetails(
        name="Gift card",
        variant=None,
        gtins=[],
        weight_grams=None,
        dimensions_mm=None,
        hs_code=None,
        country_of_origin=None,
    )
    app.catalogue.put_item("GIFT", bare)
    [event] = published(app)
    assert event.to_data()["name"] == "Gift card"
    assert "weight_grams" not in event.to_data()


# -- the request model ---------------------------------------------------------------------------


def test_the_request_model_cleans_barcodes_hs_codes_and_countries() -> None:
    body = ItemPut.model_validate(
        {
            "name": "  ชาเขียว  ",
            "variant": " ",
            "gtins": ["400-638-133-393-1"],
            "hs_code": "0902.10",
            "country_of_origin": "th",
        }
    )
    assert body.details() == ItemDetails(
        name="ชาเขียว",
        variant=None,
        gtins=[EAN13],
        weight_grams=None,
        dimensions_mm=None,
        hs_code="090210",
        country_of_origin="TH",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("gtins", ["4006381333932"]),
        ("gtins", [EAN13, EAN13]),
        ("hs_code", "61"),
        ("country_of_origin", "XX"),
        ("weight_grams", 0),
        ("weight_grams", 1.5),
        ("name", ""),
    ],
)
def test_the_request_model_refuses_bad_details(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        ItemPut.model_validate({"name": "Tee", field: value})


def test_a_gtin_of_another_sku_is_refused_and_records_nothing() -> None:
    app = Inventory()
    app.catalogue.put_item("TEE", details())
    mark = position(app)
    with pytest.raises(BarcodeTakenError, match="TEE"):
        app.catalogue.put_item("MUG", details(name="Mug", gtins=["0" + EAN13]))
    assert position(app) == mark
    with pytest.raises(ItemNotFoundError):
        app.catalogue.get_item("MUG")


def test_a_gtin_dropped_by_one_sku_may_go_to_another() -> None:
    app = Inventory()
    app.catalogue.put_item("TEE", details())
    app.catalogue.put_item("TEE", details(gtins=[]))
    _, created, _ = app.catalogue.put_item("TEE-2", details(gtins=[EAN13]))
    assert created
    with pytest.raises(BarcodeTakenError, match="TEE-2"):
        app.catalogue.put_item("TEE", details())
    assert app.catalogue.get_item("TEE").details["gtins"] == []
