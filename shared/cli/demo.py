"""`oms demo`: stream realistic orders through a running system and show what happened."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from shared.cli.client import OmsClient, urls_from_base
from shared.cli.samples import LOCATIONS, SampleOrders, units_needed

console = Console()


def register(app: typer.Typer) -> None:
    """Add the demo command to the `oms` app."""
    app.command("demo")(demo)


def demo(
    orders: Annotated[int, typer.Option(help="How many sample orders to send.")] = 40,
    base_port: Annotated[int, typer.Option(help="Gateway port of the running system.")] = 8000,
    stock_ratio: Annotated[
        float, typer.Option(help="Stock received per unit ordered (<1 makes backorders).")
    ] = 0.8,
    seed: Annotated[int, typer.Option(help="Seed of the sample data.")] = 7,
) -> None:
    """Send sample orders through the gateway of a running `oms up`, ship them, return one."""
    asyncio.run(_demo(orders, urls_from_base(base_port), stock_ratio, seed))


async def _demo(count: int, urls: dict[str, str], stock_ratio: float, seed: int) -> None:
    client = OmsClient(urls)
    run = f"{seed}-{int(time.time())}"
    sample = SampleOrders(seed=seed, prefix=f"demo{run}").orders(count)
    try:
        await _stock_up(client, sample, stock_ratio, run)
        order_ids = await _send_orders(client, sample)
        statuses = await _wait_for_decisions(client, order_ids)
        shipped = await _ship_everything(client, order_ids)
        refund = await _return_one(client, order_ids, shipped)
        _print_summary(statuses, shipped, refund)
    except httpx.HTTPError as error:
        console.print(f"[red]The OMS did not answer as expected:[/] {error}")
        raise typer.Exit(1) from None
    finally:
        await client.close()


async def _stock_up(
    client: OmsClient, sample: list[dict[str, Any]], ratio: float, run: str
) -> None:
    for location in LOCATIONS:
        try:
            await client.create_location(location)
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 409:
                raise
    for sku, units in units_needed(sample).items():
        quantity = max(1, int(units * ratio))
        half = quantity // 2
        for location, share in zip(LOCATIONS, (quantity - half, half), strict=True):
            if share:
                key = f"demo-{run}-{sku}-{location['location_id']}"
                await client.receive_stock(location["location_id"], sku, share, key)
    console.print(
        f"Received stock for {len(units_needed(sample))} SKUs at {len(LOCATIONS)} locations."
    )


async def _send_orders(client: OmsClient, sample: list[dict[str, Any]]) -> list[str]:
    order_ids: list[str] = []
    limit = asyncio.Semaphore(8)

    async def send(order: dict[str, Any], progress: Progress, task: Any) -> None:
        async with limit:
            answer = await client.place_order(order)
        order_ids.append(answer["order_id"])
        progress.advance(task)

    with Progress(console=console) as progress:
        task = progress.add_task("Sending orders to the gateway", total=len(sample))
        await asyncio.gather(*(send(order, progress, task) for order in sample))
    return order_ids


async def _wait_for_decisions(client: OmsClient, order_ids: list[str]) -> Counter[str]:
    pending = set(order_ids)
    statuses: Counter[str] = Counter()
    deadline = time.monotonic() + 120
    with Progress(console=console) as progress:
        task = progress.add_task("Reserving stock", total=len(order_ids))
        while pending and time.monotonic() < deadline:
            for order_id in list(pending):
                status = await _status(client, order_id)
                if status not in (None, "placed"):
                    pending.discard(order_id)
                    statuses[status] += 1
                    progress.advance(task)
            await asyncio.sleep(0.3)
    statuses["still placed"] += len(pending)
    return statuses


async def _status(client: OmsClient, order_id: str) -> str | None:
    try:
        return (await client.order(order_id))["status"]
    except httpx.HTTPStatusError as error:
        if error.response.status_code == 404:
            return None  # not projected yet
        raise


async def _ship_everything(client: OmsClient, order_ids: list[str]) -> list[dict[str, Any]]:
    shipments: list[dict[str, Any]] = []
    for order_id in order_ids:
        shipments += (await client.shipments(order_id=order_id, status="open"))["data"]
    shipped = []
    with Progress(console=console) as progress:
        task = progress.add_task("Shipping", total=len(shipments))
        for n, shipment in enumerate(shipments):
            tracking = f"DEMO{n:08d}"
            shipped.append(await client.ship(shipment["shipment_id"], "DHL", tracking))
            progress.advance(task)
    return shipped


async def _return_one(
    client: OmsClient, order_ids: list[str], shipped: list[dict[str, Any]]
) -> dict[str, Any] | None:
    shipped_orders = {s["order_id"] for s in shipped}
    for order_id in order_ids:
        if order_id in shipped_orders and await _wait_status(client, order_id, "shipped"):
            sku = (await client.order(order_id))["lines"][0]["sku"]
            rma = await client.request_return(
                order_id, [{"sku": sku, "quantity": 1, "reason": "too small"}]
            )
            return await client.receive_return(
                rma["return_id"], [{"sku": sku, "quantity": 1, "condition": "sellable"}]
            )
    return None


async def _wait_status(client: OmsClient, order_id: str, wanted: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await _status(client, order_id) == wanted:
            return True
        await asyncio.sleep(0.3)
    return False


def _print_summary(
    statuses: Counter[str], shipped: list[dict[str, Any]], refund: dict[str, Any] | None
) -> None:
    table = Table(title="What happened")
    table.add_column("outcome")
    table.add_column("count", justify="right")
    for status, n in sorted(statuses.items()):
        if n:
            table.add_row(f"orders {status}", str(n))
    table.add_row("shipments shipped", str(len(shipped)))
    table.add_row("returns received and refunded", "1" if refund else "0")
    console.print(table)
