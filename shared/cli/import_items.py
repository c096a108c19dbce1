"""`oms import items FILE.csv`: the catalogue from a spreadsheet, one item per line.

Columns: sku and name (required); variant, gtins (several separated by spaces or |),
weight_grams, length_mm, width_mm, height_mm (all three or none), hs_code,
country_of_origin. Each line is put to the inventory API (PUT /v1/items/{sku}); a bad line
is reported with its line number and the reason and does not stop the good ones. Putting
the same file again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from shared.cli.client import auth_headers, cli_token
from shared.cli.import_orders import import_app, read_rows

REQUIRED = ("sku", "name")
SIZE = ("length_mm", "width_mm", "height_mm")
KNOWN = (*REQUIRED, "variant", "gtins", "weight_grams", *SIZE, "hs_code", "country_of_origin")
SHOWN_ERRORS = 50
_SEPARATORS = re.compile(r"[\s|]+")
console = Console()


@dataclass(frozen=True)
class ItemLine:
    """One good line of the file: the SKU and the body to put."""

    line: int
    sku: str
    body: dict[str, Any]


@dataclass(frozen=True)
class LineError:
    """A line that was not imported, and why."""

    line: int
    reason: str


def register(app: typer.Typer) -> None:
    """Add `oms import items` (the `import` group itself comes with `oms import orders`)."""
    import_app.command("items")(import_items)


def import_items(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file")],
    url: Annotated[
        str, typer.Option(envvar="OMS_INVENTORY_URL", help="Base URL of the inventory service.")
    ] = "http://127.0.0.1:8002",
) -> None:
    """Import catalogue items from a CSV file (columns: sku, name, variant, gtins, weight_grams,
    length_mm, width_mm, height_mm, hs_code, country_of_origin)."""
    rows = read_rows(file)
    if not rows:
        console.print(f"[yellow]{file} has no rows to import.[/]")
        raise typer.Exit(0)
    missing = [c for c in REQUIRED if c not in rows[0][1]]
    if missing:
        console.print(f"[bold red]{file}: the header has no column {', '.join(missing)}[/]")
        raise typer.Exit(2)
    items, errors = parse_items(rows)
    outcomes, refused = put_items(url, items)
    errors = sorted([*errors, *refused], key=lambda e: e.line)
    _print(outcomes, errors, len(rows))
    if errors:
        raise typer.Exit(1)


def parse_items(
    rows: Iterable[tuple[int, dict[str, str]]],
) -> tuple[list[ItemLine], list[LineError]]:
    """The lines as request bodies, and the lines that cannot be one (checked here: the shape;
    the inventory API checks the rest, such as GTIN check digits and country codes)."""
    items: list[ItemLine] = []
    errors: list[LineError] = []
    first_line: dict[str, int] = {}
    for number, row in rows:
        try:
            sku, body = _item(row)
        except ValueError as error:
            errors.append(LineError(number, str(error)))
            continue
        if sku in first_line:
            errors.append(LineError(number, f"SKU {sku} is on line {first_line[sku]} already"))
            continue
        first_line[sku] = number
        items.append(ItemLine(number, sku, body))
    return items, errors


def _item(row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    sku, name = row.get("sku", ""), row.get("name", "")
    if not sku:
        raise ValueError("no sku")
    if not name:
        raise ValueError("no name")
    body: dict[str, Any] = {"name": name}
    for column in ("variant", "hs_code", "country_of_origin"):
        if row.get(column):
            body[column] = row[column]
    gtins = [g for g in _SEPARATORS.split(row.get("gtins", "")) if g]
    if gtins:
        body["gtins"] = gtins
    if row.get("weight_grams"):
        body["weight_grams"] = _whole("weight_grams", row["weight_grams"])
    sizes = {c: row.get(c, "") for c in SIZE}
    if any(sizes.values()):
        if not all(sizes.values()):
            raise ValueError("give length_mm, width_mm and height_mm together, or none")
        body["dimensions_mm"] = {c.removesuffix("_mm"): _whole(c, v) for c, v in sizes.items()}
    return sku, body


def _whole(column: str, text: str) -> int:
    """A whole number of grams or millimetres; "1,5" or "1.5 kg" is refused, not guessed."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{column} {text!r} is not a whole number")
    return int(text)


def put_items(url: str, items: list[ItemLine]) -> tuple[dict[str, int], list[LineError]]:
    """Put each item with a progress bar: how many were created, changed, unchanged; refusals."""
    outcomes = {"created": 0, "changed": 0, "unchanged": 0}
    errors: list[LineError] = []
    columns = (
        TextColumn("[bold]importing[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("items"),
        TimeRemainingColumn(),
    )
    with (
        httpx.Client(base_url=url, timeout=60, headers=auth_headers(cli_token())) as http,
        Progress(*columns, console=console) as bar,
    ):
        task = bar.add_task("items", total=len(items))
        for item in items:
            response = _put(http, item)
            if response.status_code in (200, 201):
                answer = response.json()
                kind = (
                    "created"
                    if answer["created"]
                    else "changed"
                    if answer["changed"]
                    else "unchanged"
                )
                outcomes[kind] += 1
            elif response.status_code == 422:
                errors.append(LineError(item.line, _reason(response)))
            else:
                console.print(
                    f"[bold red]line {item.line}: the inventory service answered"
                    f" {response.status_code}: {_reason(response)}[/]"
                )
                raise typer.Exit(3)
            bar.advance(task)
    return outcomes, errors


def _put(http: httpx.Client, item: ItemLine) -> httpx.Response:
    try:
        return http.put(f"/v1/items/{quote(item.sku, safe='')}", json=item.body)
    except httpx.HTTPError as error:
        console.print(
            f"[bold red]cannot reach the inventory service at {http.base_url}: {error}[/]"
        )
        raise typer.Exit(3) from None


def _reason(response: httpx.Response) -> str:
    """What a problem document says: each field's error, else its detail."""
    try:
        problem: dict[str, Any] = response.json()
    except ValueError:
        return response.reason_phrase
    errors = problem.get("errors") or []
    if errors:
        return "; ".join(_field_error(e) for e in errors)
    return str(problem.get("detail") or response.reason_phrase)


def _field_error(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", []) if part not in ("body", "path"))
    message = str(error.get("msg", error))
    return f"{where}: {message}" if where else message


def _print(outcomes: dict[str, int], errors: list[LineError], row_count: int) -> None:
    summary = Table(title=f"{row_count} lines", show_header=False)
    summary.add_row("[green]new items[/]", str(outcomes["created"]))
    summary.add_row("[green]changed[/]", str(outcomes["changed"]))
    summary.add_row("unchanged", str(outcomes["unchanged"]))
    summary.add_row("[red]not imported[/]", str(len(errors)))
    console.print(summary)
    if errors:
        table = Table(title=f"{len(errors)} bad lines")
        table.add_column("line", justify="right")
        table.add_column("reason")
        for error in errors[:SHOWN_ERRORS]:
            table.add_row(str(error.line), error.reason)
        console.print(table)
        if len(errors) > SHOWN_ERRORS:
            console.print(f"... and {len(errors) - SHOWN_ERRORS} more bad lines")
