"""`oms import orders FILE.csv --channel phone` against a gateway on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services.channel_gateway.domain import order_id_for
from shared.cli.main import create_app
from tests.fakes.harness import Gateway
from tests.kit import CLI_ENV

pytestmark = pytest.mark.integration

HEADER = (
    "order_ref;customer_name;customer_email;ship_name;ship_line1;ship_line2;ship_city;"
    "ship_postal_code;ship_country;sku;quantity;unit_price;currency"
)
ROWS = [
    # line 2-3: one order of two lines (German spreadsheet: ; and decimal commas)
    "PH-1001;Anna Schmidt;anna@example.de;Anna Schmidt;Gartenweg 4;;Hamburg;20095;DE;"
    "TEE-ORG-BLK-M;2;24,90;EUR",
    "PH-1001;Anna Schmidt;anna@example.de;Anna Schmidt;Gartenweg 4;;Hamburg;20095;DE;"
    "MUG-ENM-350-WHT;1;14,50;EUR",
    # line 4: quantity is not a number
    "PH-1002;Ben Braun;ben@example.de;Ben Braun;Hafenstr. 9;;Kiel;24103;DE;"
    "TEE-ORG-BLK-M;zwei;24,90;EUR",
    # line 5: no address at all: held, not lost
    "PH-1003;Cem Yilmaz;cem@example.de;;;;;;;MUG-ENM-350-WHT;1;14,50;EUR",
    # line 6: bad price; line 7 belongs to the same order, so that order is not imported
    "PH-1004;Dora Diaz;dora@example.de;Dora Diaz;Ring 1;;Essen;45127;DE;TEE-ORG-BLK-M;1;gratis;EUR",
    "PH-1004;Dora Diaz;dora@example.de;Dora Diaz;Ring 1;;Essen;45127;DE;"
    "MUG-ENM-350-WHT;1;14,50;EUR",
    # line 8: no order_ref
    ";Eve;eve@example.de;Eve;Weg 2;;Bonn;53111;DE;MUG-ENM-350-WHT;1;14,50;EUR",
]


@pytest.fixture(scope="module")
def gateway(new_database: Any) -> Iterator[Gateway]:
    gw = Gateway(new_database("gw_import"))
    yield gw
    gw.close()


def run_import(gw: Gateway, file: Path) -> Any:
    return CliRunner(env=CLI_ENV).invoke(
        create_app(),
        ["import", "orders", str(file), "--channel", "phone", "--url", gw.server.url],
        env={"COLUMNS": "200"},
    )


def test_a_csv_import_reports_bad_rows_by_line_and_imports_each_order_once(
    gateway: Gateway, tmp_path: Path
):
    file = tmp_path / "phone-orders.csv"
    file.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")

    first = run_import(gateway, file)
    stored = gateway.stored()
    second = run_import(gateway, file)

    assert first.exit_code == 1, first.output  # bad rows are an error for scripts
    out = first.output
    assert "line" in out and "bad rows" in out
    for line, reason in [
        (4, "quantity 'zwei' is not a whole number above 0"),
        (6, "unit_price 'gratis' is not a number"),
        (8, "order_ref is empty"),
    ]:
        assert any(str(line) in row and reason in row for row in out.splitlines()), out
    assert "missing shipping address" in out
    order = gateway.app.orders.get(order_id_for("phone", "PH-1001"))
    assert order.lines == [
        {"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90"},
        {"sku": "MUG-ENM-350-WHT", "quantity": 1, "unit_price": "14.50"},
    ]
    assert gateway.app.orders.get(order_id_for("phone", "PH-1003")).status == "held"
    assert not gateway.app.intake.knows_order("phone", "PH-1004")
    assert gateway.stored() == stored  # the second import stored nothing
    assert "already imported" in second.output


def test_a_file_without_the_required_columns_is_refused_before_anything_is_sent(
    gateway: Gateway, tmp_path: Path
):
    file = tmp_path / "wrong.csv"
    file.write_text("name,sku\nAnna,TEE\n", encoding="utf-8")
    before = gateway.stored()

    result = run_import(gateway, file)

    assert result.exit_code == 2
    assert "order_ref" in result.output
    assert gateway.stored() == before
