"""Inventory HTTP API: locations, stock receipts and adjustments, levels and reservations."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from services.inventory_service import domain
from services.inventory_service.application import Inventory
from services.inventory_service.schemas import (
    AdjustmentCreate,
    AdjustmentPublic,
    LocationCreate,
    LocationPublic,
    LocationsPublic,
    ReceiptCreate,
    ReceiptPublic,
    ReservationPublic,
    StockLevelRow,
    StockLevelsPublic,
    StockPublic,
    stock_public,
)
from services.inventory_service.views import InventoryViews
from shared.runtime.api import Problem
from shared.runtime.application import retry_on_conflict

ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    domain.LocationNotFoundError: (404, "Location not found"),
    domain.LocationConflictError: (409, "Location conflict"),
    domain.StockNotFoundError: (404, "Stock not found"),
    domain.InsufficientStockError: (409, "Insufficient stock"),
    domain.IdempotencyKeyReusedError: (422, "Idempotency key reused"),
}


def get_app(request: Request) -> Inventory:
    """The Inventory application of this process."""
    return request.app.state.inventory


def get_views(request: Request) -> InventoryViews:
    """The inventory read models of this process."""
    return request.app.state.views


AppDep = Annotated[Inventory, Depends(get_app)]
ViewsDep = Annotated[InventoryViews, Depends(get_views)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retrying with the same key records the movement once.",
    ),
]
LocationIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-/]+$")]

locations = APIRouter(prefix="/locations", tags=["locations"])
stock = APIRouter(prefix="/stock", tags=["stock"])
reservations = APIRouter(prefix="/reservations", tags=["reservations"])
ROUTERS = [locations, stock, reservations]


@locations.post("", response_model=LocationPublic, status_code=201)
def register_location(body: LocationCreate, app: AppDep, response: Response) -> LocationPublic:
    """Register a location (201); the same data again answers 200, different data 409."""
    location, created = retry_on_conflict(
        app.register_location, body.location_id, body.name, body.country, body.priority
    )
    response.status_code = 201 if created else 200
    return LocationPublic.model_validate(location)


@locations.get("", response_model=LocationsPublic)
def list_locations(views: ViewsDep) -> LocationsPublic:
    """Every location, preferred (lowest priority number) first."""
    rows = views.list_locations()
    return LocationsPublic(data=[LocationPublic.model_validate(r) for r in rows], count=len(rows))


@locations.post("/{location_id}/deactivate", response_model=LocationPublic)
def deactivate_location(location_id: LocationIdPath, app: AppDep) -> LocationPublic:
    """Stop routing new reservations to a location (stock already held stays held)."""
    return LocationPublic.model_validate(
        retry_on_conflict(app.set_location_active, location_id, False)
    )


@locations.post("/{location_id}/activate", response_model=LocationPublic)
def activate_location(location_id: LocationIdPath, app: AppDep) -> LocationPublic:
    """Route new reservations to a location again."""
    return LocationPublic.model_validate(
        retry_on_conflict(app.set_location_active, location_id, True)
    )


@stock.post("/receipts", response_model=ReceiptPublic, status_code=201)
def receive_stock(
    body: ReceiptCreate, app: AppDep, idempotency_key: IdempotencyKey = None
) -> ReceiptPublic:
    """Record units arriving at a location; waiting orders are served first come, first served."""
    receipt_id, sku_stock = retry_on_conflict(
        app.receive_stock,
        body.location_id,
        body.sku,
        body.quantity,
        body.reference,
        idempotency_key,
    )
    return ReceiptPublic(
        receipt_id=UUID(receipt_id),
        **body.model_dump(),
        stock=stock_public(sku_stock.sku, sku_stock.levels),
    )


@stock.post("/adjustments", response_model=AdjustmentPublic, status_code=201)
def adjust_stock(
    body: AdjustmentCreate, app: AppDep, idempotency_key: IdempotencyKey = None
) -> AdjustmentPublic:
    """Correct on hand at a location; never below zero or below what is reserved (409)."""
    adjustment_id, sku_stock = retry_on_conflict(
        app.adjust_stock,
        body.location_id,
        body.sku,
        body.quantity_delta,
        body.reason,
        idempotency_key,
    )
    return AdjustmentPublic(
        adjustment_id=UUID(adjustment_id),
        **body.model_dump(),
        stock=stock_public(sku_stock.sku, sku_stock.levels),
    )


@stock.get("", response_model=StockLevelsPublic)
def list_stock_levels(
    views: ViewsDep,
    location_id: Annotated[str | None, Query(max_length=64)] = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> StockLevelsPublic:
    """Stock levels by SKU and location, optionally of one location or one SKU."""
    rows, total = views.list_levels(location_id=location_id, sku=sku, limit=limit, offset=offset)
    return StockLevelsPublic(
        data=[StockLevelRow.model_validate(r) for r in rows],
        count=total,
        limit=limit,
        offset=offset,
    )


@stock.get("/{sku:path}", response_model=StockPublic)
def get_stock(sku: SkuPath, app: AppDep) -> StockPublic:
    """A SKU's stock per location and in total, as of the last recorded event."""
    sku_stock = app.get_stock(sku)
    return stock_public(sku_stock.sku, sku_stock.levels)


@reservations.get("/{order_id}", response_model=ReservationPublic)
def get_reservation(order_id: UUID, views: ViewsDep) -> ReservationPublic:
    """An order's reservation: requested lines, what it holds where, what it waits for."""
    row = views.get_reservation(order_id)
    if row is None:
        raise Problem(404, "Reservation not found", f"no reservation for order {order_id}")
    return ReservationPublic.model_validate(row)
