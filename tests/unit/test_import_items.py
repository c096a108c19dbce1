"""`oms import items`: reading the CSV into request bodies, bad lines by line number (no I/O)."""

from __future__ import annotations

from pathlib import Path

from shared.cli.import_items import ItemLine, LineError, parse_items
from shared.cli.import_orders import read_rows

HEADER = (
    "sku,name,variant,gtins,weight_grams,length_mm,width_mm,height_mm,hs_code,country_of_origin"
)


def parsed(
    tmp_path: Path, *lines: str, bom: bool = False
) -> tuple[list[ItemLine], list[LineError]]:
    file = tmp_path / "items.csv"
    file.write_text(
        ("\ufeff" if bom else "") + "\n".join([HEADER, *lines]) + "\n", encoding="utf-8"
    )
    return parse_items(read_rows(file))


def test_a_full_line_becomes_the_body_of_a_put(tmp_path: Path) -> None:
    items, errors = parsed(
        tmp_path,
        "TEE-M,Organic tee,Black / M,4006381333931 | 036000291452,180,300,220,20,6109.10,PT",
    )
    assert errors == []
    assert items == [
        ItemLine(
            2,
            "TEE-M",
            {
                "name": "Organic tee",
                "variant": "Black / M",
                "gtins": ["4006381333931", "036000291452"],
                "weight_grams": 180,
                "dimensions_mm": {"length": 300, "width": 220, "height": 20},
                "hs_code": "6109.10",
                "country_of_origin": "PT",
            },
        )
    ]


def test_a_bom_and_empty_lines_are_not_rows_and_line_numbers_stay_those_of_the_file(
    tmp_path: Path,
) -> None:
    items, errors = parsed(
        tmp_path,
        "",
        "TEA-TH,ชาไทย,,,,,,,,TH",
        ",,,,,,,,,",
        "MATCHA,抹茶 宇治,缶,,,,,,,",
        bom=True,
    )
    assert errors == []
    assert [(i.line, i.sku, i.body) for i in items] == [
        (3, "TEA-TH", {"name": "ชาไทย", "country_of_origin": "TH"}),
        (5, "MATCHA", {"name": "抹茶 宇治", "variant": "缶"}),
    ]


def test_bad_lines_are_reported_by_number_and_the_good_ones_kept(tmp_path: Path) -> None:
    items, errors = parsed(
        tmp_path,
        "A,Alpha,,,,,,,,",
        ",No SKU,,,,,,,,",
        "B,,,,,,,,,",
        "C,Gamma,,,1.5,,,,,",
        "D,Delta,,,,10,20,,,",
        "A,Alpha again,,,,,,,,",
        "E,Epsilon,,,-3,,,,,",
        "F,Phi,,,,,,,,",
    )
    assert [i.sku for i in items] == ["A", "F"]
    assert errors == [
        LineError(3, "no sku"),
        LineError(4, "no name"),
        LineError(5, "weight_grams '1.5' is not a whole number"),
        LineError(6, "give length_mm, width_mm and height_mm together, or none"),
        LineError(7, "SKU A is on line 2 already"),
        LineError(8, "weight_grams '-3' is not a whole number"),
    ]
