"""Stock: receipts, adjustments, levels per SKU and location, one SKU's stock."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from services.inventory_service.api.deps import AppDep, SkuPath, TimeQuery, ViewsDep
from services.inventory_service.application import Inventory
from services.inventory_service.domain import Stock
from services.inventory_service.schemas import (
    AdjustmentCreate,
    AdjustmentPublic,
    MovementPublic,
    MovementsPublic,
    QuarantineCreate,
    QuarantinePublic,
    QuarantineRelease,
    ReceiptCreate,
    ReceiptPublic,
    StockLevelRow,
    StockLevelsPublic,
    StockPublic,
    stock_public,
)
from services.inventory_service.schemas.atp import SafetyStockSet
from shared.runtime.api import IdempotencyKey, PageQuery, links, page_query, problems

router = APIRouter(prefix="/stock", tags=["stock"])


@router.post(
    "/receipts",
    response_model=ReceiptPublic,
    status_code=201,
    responses=problems(404) | links(201, "GET /v1/stock/{sku}"),
)
def receive_stock(
    body: ReceiptCreate, app: AppDep, idempotency_key: IdempotencyKey = None
) -> ReceiptPublic:
    """Record units arriving at a location (put away into `bin`, if given); waiting orders are
    served first come, first served."""
    receipt_id, stock = app.stocks.receive(
        body.location_id,
        body.sku,
        body.quantity,
        reference=body.reference,
        idempotency_key=idempotency_key,
        bin_code=body.bin,
    )
    return ReceiptPublic(
        receipt_id=UUID(receipt_id), **body.model_dump(), stock=_public(app, stock)
    )


@router.post(
    "/adjustments",
    response_model=AdjustmentPublic,
    status_code=201,
    responses=problems(404, 409) | links(201, "GET /v1/stock/{sku}"),
)
def adjust_stock(
    body: AdjustmentCreate, app: AppDep, idempotency_key: IdempotencyKey = None
) -> AdjustmentPublic:
    """Correct on hand at a location; never below zero or below what is reserved (409)."""
    adjustment_id, stock = app.stocks.adjust(
        body.location_id,
        body.sku,
        body.quantity_delta,
        body.reason,
        idempotency_key=idempotency_key,
    )
    return AdjustmentPublic(
        adjustment_id=UUID(adjustment_id), **body.model_dump(), stock=_public(app, stock)
    )


@router.post(
    "/quarantine",
    response_model=QuarantinePublic,
    status_code=201,
    responses=problems(404) | links(201, "GET /v1/stock/{sku}"),
)
def quarantine_stock(
    body: QuarantineCreate, app: AppDep, idempotency_key: IdempotencyKey = None
) -> QuarantinePublic:
    """Put sellable units at a location into quarantine; never what is reserved or missing
    (422)."""
    movement_id, stock = app.stocks.quarantine(
        body.location_id, body.sku, body.quantity, body.reason, idempotency_key=idempotency_key
    )
    return QuarantinePublic(
        movement_id=UUID(movement_id),
        **body.model_dump(),
        to="quarantine",
        stock=_public(app, stock),
    )


@router.post(
    "/quarantine/release",
    response_model=QuarantinePublic,
    status_code=201,
    responses=problems(404) | links(201, "GET /v1/stock/{sku}"),
)
def release_quarantine(
    body: QuarantineRelease, app: AppDep, idempotency_key: IdempotencyKey = None
) -> QuarantinePublic:
    """Quarantined units become sellable (waiting orders are served) or are scrapped with the
    reason; more than is quarantined: 422."""
    movement_id, stock = app.stocks.release_quarantine(
        body.location_id,
        body.sku,
        body.quantity,
        body.to,
        body.reason,
        idempotency_key=idempotency_key,
    )
    return QuarantinePublic(
        movement_id=UUID(movement_id), **body.model_dump(), stock=_public(app, stock)
    )


@router.get(
    "", response_model=StockLevelsPublic, responses=links(200, "GET /v1/stock/{sku}", at="/data/0")
)
def list_stock_levels(
    views: ViewsDep,
    page: Annotated[PageQuery, page_query(default=100, maximum=500)],
    location_id: Annotated[str | None, Query(max_length=64)] = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
) -> StockLevelsPublic:
    """Stock levels by SKU and location, optionally of one location or one SKU."""
    rows, total = views.list_levels(
        location_id=location_id, sku=sku, limit=page.limit, offset=page.offset
    )
    return StockLevelsPublic.of([StockLevelRow.model_validate(r) for r in rows], total, page)


# Before the SKU's own GET route (which "{sku:path}" would also match).
@router.put("/{sku:path}/safety-stock", response_model=StockPublic, responses=problems(404))
def set_safety_stock(sku: SkuPath, body: SafetyStockSet, app: AppDep) -> StockPublic:
    """Keep units of a SKU back at a location: ATP (what channels are told) leaves them out;
    orders may still reserve them. 0 clears it. Answers the SKU's stock."""
    return _public(app, app.atp.set_safety_stock(sku, body.location_id, body.quantity))


# Before the SKU's own route: a SKU may hold "/", and "{sku:path}" would swallow "/movements".
@router.get("/{sku:path}/movements", response_model=MovementsPublic, responses=problems(404))
def list_movements(
    sku: SkuPath,
    app: AppDep,
    page: Annotated[PageQuery, page_query(default=100, maximum=500)],
    location_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[TimeQuery | None, Query(description="From this time on")] = None,
    until: Annotated[TimeQuery | None, Query(description="Up to this time")] = None,
) -> MovementsPublic:
    """Every receipt, reservation, release, shipment, return, adjustment and short pick of a
    SKU, newest first, with its cause and the level after it (from the event log)."""
    moved = app.history.movements(sku, location_id=location_id, since=since, until=until)
    rows = [MovementPublic.model_validate(m) for m in moved[page.offset : page.offset + page.limit]]
    return MovementsPublic.of(rows, len(moved), page)


@router.get("/{sku:path}", response_model=StockPublic, responses=problems(404))
def get_stock(
    sku: SkuPath,
    app: AppDep,
    at: Annotated[
        TimeQuery | None,
        Query(description="The stock as it was at this time (RFC 3339), from the event log"),
    ] = None,
) -> StockPublic:
    """A SKU's stock and bin per location and in total (open locations only: a closed one's
    units are listed, marked inactive, but promised nowhere), now or as of `at`."""
    if at is None or at >= _now():
        return _public(app, app.stocks.get(sku))
    return _public(app, app.history.stock_at(sku, at))


def _now() -> datetime:
    """The time on this instance's clock, with its zone."""
    return datetime.now().astimezone()


def _public(app: Inventory, stock: Stock) -> StockPublic:
    """A SKU's stock as the API shows it: totals over the open locations."""
    return stock_public(stock, app.locations.inactive(stock.levels))
