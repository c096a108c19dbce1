"""Inventory HTTP API: locations, stock movements and bins, levels, reservations, discrepancies."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response

from services.inventory_service import domain
from services.inventory_service.application import Inventory
from services.inventory_service.schemas import (
    AdjustmentCreate,
    AdjustmentPublic,
    BinAssign,
    BinAssignmentPublic,
    BinRow,
    BinsPublic,
    DiscrepanciesPublic,
    DiscrepancyPublic,
    DiscrepancyResolve,
    DiscrepancyStatus,
    LocationCreate,
    LocationPublic,
    LocationsPublic,
    ReceiptCreate,
    ReceiptPublic,
    ReservationPublic,
    StockLevelRow,
    StockLevelsPublic,
    StockPublic,
    discrepancy_public,
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
    domain.InvalidBinError: (422, "Invalid bin"),
    domain.DiscrepancyNotFoundError: (404, "Discrepancy not found"),
    domain.DiscrepancyClosedError: (409, "Discrepancy already resolved"),
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

Resolution = Annotated[DiscrepancyResolve | None, Body()]

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


@locations.get("/{location_id}/bins", response_model=BinsPublic)
def list_bins(
    location_id: LocationIdPath,
    views: ViewsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> BinsPublic:
    """The location's SKUs with their bins, along the pick path (aisle, bay, level; natural)."""
    if not views.location_exists(location_id):
        raise Problem(404, "Location not found", f"no location {location_id}")
    rows, total = views.list_bins(location_id, limit=limit, offset=offset)
    data = [BinRow(sku=r["sku"], bin=r["bin"]) for r in rows]
    return BinsPublic(location_id=location_id, data=data, count=total, limit=limit, offset=offset)


@stock.post("/receipts", response_model=ReceiptPublic, status_code=201)
def receive_stock(
    body: ReceiptCreate, app: AppDep, idempotency_key: IdempotencyKey = None
) -> ReceiptPublic:
    """Record units arriving at a location (put away into `bin`, if given); waiting orders are
    served first come, first served."""
    receipt_id, sku_stock = retry_on_conflict(
        app.receive_stock,
        body.location_id,
        body.sku,
        body.quantity,
        body.reference,
        idempotency_key,
        body.bin,
    )
    return ReceiptPublic(
        receipt_id=UUID(receipt_id),
        **body.model_dump(),
        stock=stock_public(sku_stock.sku, sku_stock.levels, sku_stock.bins),
    )


@stock.post("/bins", response_model=BinAssignmentPublic)
def assign_bin(body: BinAssign, app: AppDep) -> BinAssignmentPublic:
    """Put a SKU away into a bin at a location, or move it there; publishes BinAssigned."""
    previous = retry_on_conflict(app.assign_bin, body.location_id, body.sku, body.bin)
    return BinAssignmentPublic(
        location_id=body.location_id,
        sku=body.sku,
        bin=body.bin,
        previous_bin=previous,
        moved=previous != body.bin,
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
        stock=stock_public(sku_stock.sku, sku_stock.levels, sku_stock.bins),
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


# Discrepancy routes come before /{sku:path}, which would otherwise take their paths.
@stock.get("/discrepancies", response_model=DiscrepanciesPublic)
def list_discrepancies(
    views: ViewsDep,
    status: DiscrepancyStatus | None = None,
    location_id: Annotated[str | None, Query(max_length=64)] = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DiscrepanciesPublic:
    """Stock adjustments proposed by short picks, oldest first; ops work through `proposed`."""
    rows, total = views.list_discrepancies(
        status=status, location_id=location_id, sku=sku, limit=limit, offset=offset
    )
    return DiscrepanciesPublic(
        data=[DiscrepancyPublic.model_validate(r) for r in rows],
        count=total,
        limit=limit,
        offset=offset,
    )


@stock.get("/discrepancies/{discrepancy_id}", response_model=DiscrepancyPublic)
def get_discrepancy(discrepancy_id: UUID, app: AppDep) -> DiscrepancyPublic:
    """One discrepancy, as recorded."""
    return discrepancy_public(app.get_discrepancy(discrepancy_id))


@stock.post("/discrepancies/{discrepancy_id}/confirm", response_model=DiscrepancyPublic)
def confirm_discrepancy(discrepancy_id: UUID, app: AppDep, body: Resolution = None) -> Any:
    """The units are gone: on hand drops by them (reason "short pick"); repeating is a no-op."""
    note = body.note if body else None
    return discrepancy_public(retry_on_conflict(app.confirm_discrepancy, discrepancy_id, note))


@stock.post("/discrepancies/{discrepancy_id}/reject", response_model=DiscrepancyPublic)
def reject_discrepancy(discrepancy_id: UUID, app: AppDep, body: Resolution = None) -> Any:
    """The units were found: on hand stays and they can be promised again; repeating is a no-op."""
    note = body.note if body else None
    return discrepancy_public(retry_on_conflict(app.reject_discrepancy, discrepancy_id, note))


@stock.get("/{sku:path}", response_model=StockPublic)
def get_stock(sku: SkuPath, app: AppDep) -> StockPublic:
    """A SKU's stock and bin per location and in total, as of the last recorded event."""
    sku_stock = app.get_stock(sku)
    return stock_public(sku_stock.sku, sku_stock.levels, sku_stock.bins)


@reservations.get("/{order_id}", response_model=ReservationPublic)
def get_reservation(order_id: UUID, views: ViewsDep) -> ReservationPublic:
    """An order's reservation: requested lines, what it holds where, what it waits for."""
    row = views.get_reservation(order_id)
    if row is None:
        raise Problem(404, "Reservation not found", f"no reservation for order {order_id}")
    return ReservationPublic.model_validate(row)
