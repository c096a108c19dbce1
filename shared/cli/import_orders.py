"""`oms import orders FILE.csv --channel phone`: phone and mail orders from a spreadsheet.

One row per order line; rows with the same order_ref make one order. Every bad row is reported
with its line number and reason, and an order with a bad row is not imported. The order_ref is
the order's external id at the gateway, so importing the same file again imports nothing twice.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from shared.cli.client import auth_headers, cli_token

REQUIRED = ("order_ref", "sku", "quantity", "unit_price", "currency")
ROWS_PER_REQUEST = 500
SHOWN_ERRORS = 50
console = Console()
import_app = typer.Typer(help="Import data into the OMS.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `oms import ...` to the `oms` app."""
    app.add_typer(import_app, name="import")


@import_app.command("orders")
def import_orders(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file")],
    channel: Annotated[str, typer.Option(help="Channel of these orders, e.g. phone or mail.")],
    url: Annotated[
        str, typer.Option(envvar="OMS_GATEWAY_URL", help="Base URL of the channel gateway.")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Import orders from a CSV file (columns: order_ref, customer_name, customer_email,
    ship_name, ship_line1, ship_line2, ship_city, ship_postal_code, ship_country, sku,
    quantity, unit_price, currency)."""
    rows = read_rows(file)
    if not rows:
        console.print(f"[yellow]{file} has no rows to import.[/]")
        raise typer.Exit(0)
    missing = [c for c in REQUIRED if c not in rows[0][1]]
    if missing:
        console.print(f"[bold red]{file}: the header has no column {', '.join(missing)}[/]")
        raise typer.Exit(2)
    orders, errors = send(url, channel, rows)
    _print(orders, errors, len(rows))
    if errors or any(o["status"] == "rejected" for o in orders):
        raise typer.Exit(1)


def read_rows(file: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; the header is line 1; ; , and tabs are understood."""
    text = file.read_text(encoding="utf-8-sig")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(text.splitlines(keepends=True), dialect=dialect)
    rows = []
    for row in reader:
        fields = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if any(fields.values()):  # blank lines are not rows
            rows.append((reader.line_num, fields))
    return rows


def batches(rows: list[tuple[int, dict[str, str]]]) -> Iterator[list[tuple[int, dict[str, str]]]]:
    """Whole orders per request, about ROWS_PER_REQUEST rows each."""
    by_order: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in rows:
        by_order.setdefault(row.get("order_ref") or f"\0line{number}", []).append((number, row))
    batch: list[tuple[int, dict[str, str]]] = []
    for order_rows in by_order.values():
        if batch and len(batch) + len(order_rows) > ROWS_PER_REQUEST:
            yield batch
            batch = []
        batch.extend(order_rows)
    if batch:
        yield batch


def send(
    url: str, channel: str, rows: list[tuple[int, dict[str, str]]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Post the rows in batches with a progress bar; the gateway's verdict per order and row."""
    orders: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    columns = (
        TextColumn("[bold]importing[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeRemainingColumn(),
    )
    with (
        httpx.Client(base_url=url, timeout=60, headers=auth_headers(cli_token())) as http,
        Progress(*columns, console=console) as bar,
    ):
        task = bar.add_task("rows", total=len(rows))
        for batch in batches(rows):
            body = {
                "channel": channel,
                "rows": [{"line": n, "fields": fields} for n, fields in batch],
            }
            response = _post(http, body)
            orders.extend(response["orders"])
            errors.extend(response["errors"])
            bar.advance(task, len(batch))
    return orders, sorted(errors, key=lambda e: e["line"])


def _post(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    try:
        response = http.post("/v1/imports/orders", json=body)
    except httpx.HTTPError as error:
        console.print(f"[bold red]cannot reach the gateway at {http.base_url}: {error}[/]")
        raise typer.Exit(3) from None
    if response.status_code != 200:
        detail = response.json().get("detail") if response.content else response.reason_phrase
        console.print(f"[bold red]the gateway refused the import: {detail}[/]")
        raise typer.Exit(3)
    report: dict[str, Any] = response.json()
    return report


def _print(orders: list[dict[str, Any]], errors: list[dict[str, Any]], row_count: int) -> None:
    counts = {s: sum(o["status"] == s for o in orders) for s in ("accepted", "duplicate", "held")}
    rejected = [o for o in orders if o["status"] == "rejected"]
    summary = Table(title=f"{row_count} rows, {len(orders)} orders", show_header=False)
    summary.add_row("[green]imported[/]", str(counts["accepted"]))
    summary.add_row("already imported", str(counts["duplicate"]))
    summary.add_row("[yellow]held[/] (see GET /v1/channel-orders?status=held)", str(counts["held"]))
    summary.add_row("[red]not imported[/]", str(len(rejected)))
    console.print(summary)
    held = [o for o in orders if o["status"] == "held"]
    if held:
        table = Table(title="Held orders")
        table.add_column("order_ref")
        table.add_column("lines")
        table.add_column("reason")
        for order in held:
            table.add_row(order["order_ref"], _lines(order["lines"]), "; ".join(order["reasons"]))
        console.print(table)
    if rejected:
        table = Table(title="Orders not imported (a row of each is bad)")
        table.add_column("order_ref")
        table.add_column("lines")
        for order in rejected:
            table.add_row(order["order_ref"], _lines(order["lines"]))
        console.print(table)
    if errors:
        table = Table(title=f"{len(errors)} bad rows")
        table.add_column("line", justify="right")
        table.add_column("reason")
        for error in errors[:SHOWN_ERRORS]:
            table.add_row(str(error["line"]), error["reason"])
        console.print(table)
        if len(errors) > SHOWN_ERRORS:
            console.print(f"... and {len(errors) - SHOWN_ERRORS} more bad rows")


def _lines(lines: list[int]) -> str:
    return ", ".join(str(n) for n in lines)
