"""`oms sync stock --channel shopify-eu`: tell a channel again what it may sell of every SKU.

First inventory publishes what channels may sell of every SKU where that differs from what it
last published (after a change of OMS_INVENTORY_CHANNELS), then the gateway pushes every SKU's
latest figure to the channel again, at the channel's rate; a progress bar follows the pushes
until none is left waiting, and the SKUs whose push failed are listed.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.cli.client import auth_headers, cli_token

WAITING = ("pending", "retrying")
SHOWN_FAILURES = 50
console = Console()
sync_app = typer.Typer(help="Tell channels what they may sell.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `oms sync ...` to the `oms` app."""
    app.add_typer(sync_app, name="sync")


@sync_app.command("stock")
def sync_stock(
    channel: Annotated[str, typer.Option(help="The channel connection, e.g. shopify-eu.")],
    url: Annotated[
        str, typer.Option(envvar="OMS_GATEWAY_URL", help="Base URL of the channel gateway.")
    ] = "http://127.0.0.1:8000",
    inventory_url: Annotated[
        str, typer.Option(envvar="OMS_INVENTORY_URL", help="Base URL of the inventory service.")
    ] = "http://127.0.0.1:8002",
    timeout: Annotated[
        float, typer.Option(help="Stop following the pushes after so many s.")
    ] = 3600,
) -> None:
    """Push every SKU's figure to the channel again and follow the pushes to the end."""
    headers = auth_headers(cli_token())
    with httpx.Client(base_url=inventory_url, timeout=300, headers=headers) as inventory:
        published = _call(inventory, "POST", "/v1/atp/publish", json={})
    console.print(
        f"inventory: {published['skus']} SKUs, {published['changed']} with news for channels"
    )
    with httpx.Client(base_url=url, timeout=60, headers=headers) as gateway:
        forced = _call(gateway, "POST", f"/v1/stock-sync/{channel}/resync")
        counts = follow(gateway, channel, int(forced["skus"]), timeout)
        failed = _rows(gateway, channel, "failed") if counts.get("failed") else []
    _print(channel, counts, failed)
    if failed or any(counts.get(status) for status in WAITING):
        raise typer.Exit(1)


def follow(gateway: httpx.Client, channel: str, total: int, timeout: float) -> dict[str, int]:
    """A progress bar of the SKUs pushed, until none waits (or the time is up); the counts."""
    columns = (
        TextColumn(f"[bold]pushing to {channel}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("SKUs"),
        TimeElapsedColumn(),
    )
    deadline = time.monotonic() + timeout
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("skus", total=total)
        while True:
            counts: dict[str, int] = _call(
                gateway, "GET", f"/v1/stock-sync/{channel}", params={"limit": 1}
            )["counts"]
            waiting = sum(counts.get(status, 0) for status in WAITING)
            bar.update(task, completed=max(0, total - waiting))
            if not waiting or time.monotonic() > deadline:
                return counts
            time.sleep(0.5)


def _rows(gateway: httpx.Client, channel: str, status: str) -> list[dict[str, Any]]:
    params = {"status": status, "limit": SHOWN_FAILURES}
    rows: list[dict[str, Any]] = _call(gateway, "GET", f"/v1/stock-sync/{channel}", params=params)[
        "data"
    ]
    return rows


def _call(http: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = http.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        console.print(f"[bold red]cannot reach {http.base_url}: {error}[/]")
        raise typer.Exit(2) from None
    if response.status_code >= 400:
        console.print(f"[bold red]{method} {path}: {response.status_code} {response.text}[/]")
        raise typer.Exit(2)
    return response.json()


def _print(channel: str, counts: dict[str, int], failed: list[dict[str, Any]]) -> None:
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no SKUs"
    console.print(f"{channel}: {summary}")
    if failed:
        table = Table("sku", "wanted", "attempts", "last error", title="failed pushes")
        for row in failed:
            table.add_row(
                row["sku"], str(row["wanted"]["available"]), str(row["attempts"]), row["last_error"]
            )
        console.print(table)
        console.print(f'retry one: POST {"/v1/stock-sync/"}{channel}/retry {{"sku": ...}}')
