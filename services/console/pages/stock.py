"""Stock: levels per SKU and location, one SKU's stock and movements, receiving, adjusting,
bins (put-away and moves) and transfers between locations."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from services.console.pages.calls import offset_of
from services.console.pages.deps import CallerDep, FormDep, back, render
from services.console.pages.floor import (
    INVENTORY,
    SKU,
    FormError,
    attempt,
    in_path,
    key_header,
    locations,
    one_use_key,
    whole_number,
)
from services.console.upstream import Caller, UpstreamProblem

router = APIRouter()
PAGE_SIZE = 50
TRANSFER_STATUSES = ("in_transit", "partially_received", "received", "cancelled")
TRANSFER_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
ADJUSTMENT_REASONS = ("cycle count", "damaged", "lost", "found", "other")


@router.get("/stock", response_class=HTMLResponse)
async def stock(request: Request, api: CallerDep) -> HTMLResponse:
    """Stock levels by SKU and location; a SKU searched by itself or in the catalogue."""
    asked = request.query_params
    sku = asked.get("sku", "").strip()
    location_id = asked.get("location_id", "").strip()
    offset = offset_of(request)
    places, levels, items = await asyncio.gather(
        locations(api),
        _levels(api, sku, location_id, offset),
        _catalogue(api, sku),
    )
    return render(
        request,
        "stock.html",
        locations=places,
        levels=levels,
        items=[i for i in items if i["sku"] != sku],
        sku=sku,
        location_id=location_id,
        offset=offset,
        page_size=PAGE_SIZE,
        idempotency_key=one_use_key(),
    )


@router.get("/stock/sku/{sku:path}", response_class=HTMLResponse)
async def sku_stock(request: Request, sku: str, api: CallerDep) -> HTMLResponse:
    """One SKU: on hand, reserved, available and its bin per location; its latest movements."""
    if not SKU.fullmatch(sku):
        return render(
            request, "problem.html", status_code=404, title="Not a SKU", detail=f"{sku!r}"
        )
    places, found, moves, item = await asyncio.gather(
        locations(api),
        _or_none(api, f"/stock/{in_path(sku)}"),
        _or_none(api, f"/stock/{in_path(sku)}/movements", limit=20),
        _or_none(api, f"/items/{in_path(sku)}"),
    )
    return render(
        request,
        "stock_sku.html",
        sku=sku,
        stock=found,
        movements=(moves or {}).get("data", []),
        item=item,
        locations=places,
        reasons=ADJUSTMENT_REASONS,
        idempotency_key=one_use_key(),
    )


@router.post("/stock/receipts")
async def receive(api: CallerDep, fields: FormDep) -> Response:
    """Units arrived at a location (put away into a bin, if one is named)."""
    sku = fields.get("sku", "").strip()
    here = _sku_path(sku) if SKU.fullmatch(sku) else "/stock"
    try:
        body = {
            "location_id": fields.get("location_id", "").strip(),
            "sku": _sku(sku),
            "quantity": whole_number(fields, "quantity", "Units"),
            "reference": fields.get("reference", "").strip() or None,
            "bin": fields.get("bin", "").strip() or None,
        }
    except FormError as error:
        return back(here, problem=str(error))
    done, problem = await attempt(api, INVENTORY, "/stock/receipts", body, key_header(fields))
    if problem:
        return back(here, problem=problem)
    total = done["stock"]["total"]
    note = f"Received {body['quantity']} x {sku} at {body['location_id']}: "
    return back(here, note=note + f"{total['on_hand']} on hand, {total['available']} available.")


@router.post("/stock/adjustments")
async def adjust(api: CallerDep, fields: FormDep) -> Response:
    """Correct on hand at a location after a count, damage or loss; always with a reason."""
    sku = fields.get("sku", "").strip()
    here = _sku_path(sku) if SKU.fullmatch(sku) else "/stock"
    try:
        delta = whole_number(fields, "quantity_delta", "The change", signed=True)
        if delta == 0:
            raise FormError("The change must not be 0.")
        body = {
            "location_id": fields.get("location_id", "").strip(),
            "sku": _sku(sku),
            "quantity_delta": delta,
            "reason": _reason(fields),
        }
    except FormError as error:
        return back(here, problem=str(error))
    done, problem = await attempt(api, INVENTORY, "/stock/adjustments", body, key_header(fields))
    if problem:
        return back(here, problem=problem)
    total = done["stock"]["total"]
    note = f"Adjusted {sku} at {body['location_id']} by {delta:+d}: "
    return back(here, note=note + f"{total['on_hand']} on hand, {total['available']} available.")


@router.post("/stock/bins")
async def assign_bin(api: CallerDep, fields: FormDep) -> Response:
    """Put a SKU away into a bin at a location, or move it there."""
    sku = fields.get("sku", "").strip()
    location_id = fields.get("location_id", "").strip()
    here = _bins_path(location_id) if fields.get("back") == "bins" else _sku_path(sku)
    try:
        body = {"location_id": location_id, "sku": _sku(sku), "bin": fields.get("bin", "").strip()}
    except FormError as error:
        return back(here if SKU.fullmatch(sku) else "/stock", problem=str(error))
    done, problem = await attempt(api, INVENTORY, "/stock/bins", body)
    if problem:
        return back(here, problem=problem)
    if not done["moved"]:
        return back(here, note=f"{sku} already lives in {done['bin']} at {location_id}.")
    was = f" (was {done['previous_bin']})" if done["previous_bin"] else ""
    return back(here, note=f"{sku} now lives in {done['bin']} at {location_id}{was}.")


@router.get("/stock/bins", response_class=HTMLResponse)
async def bins(request: Request, api: CallerDep) -> HTMLResponse:
    """A location's SKUs with their bins, along the pick path."""
    places = await locations(api)
    asked = request.query_params
    location_id = asked.get("location_id") or (places[0]["location_id"] if places else "")
    offset = offset_of(request)
    found: dict[str, Any] = {"data": [], "count": 0}
    if location_id:
        try:
            found = await api.get(
                INVENTORY,
                f"/locations/{in_path(location_id)}/bins",
                limit=500,
                offset=offset,
            )
        except UpstreamProblem as problem:
            if problem.status in (401, 403):
                raise
            found["problem"] = f"{problem.title}: {problem.detail}"
    return render(
        request,
        "stock_bins.html",
        locations=places,
        location_id=location_id,
        bins=found,
        offset=offset,
    )


@router.get("/stock/transfers", response_class=HTMLResponse)
async def transfers(request: Request, api: CallerDep) -> HTMLResponse:
    """Transfers, newest first, by status, source or destination; shipping a new one."""
    asked = {k: request.query_params.get(k, "") for k in ("status", "from_location", "to_location")}
    offset = offset_of(request)
    places, found = await asyncio.gather(
        locations(api),
        api.get(INVENTORY, "/transfers", limit=PAGE_SIZE, offset=offset, **asked),
    )
    return render(
        request,
        "transfers.html",
        locations=places,
        transfers=found,
        asked=asked,
        statuses=TRANSFER_STATUSES,
        offset=offset,
        page_size=PAGE_SIZE,
        new_id=f"T-{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:6].upper()}",
    )


@router.post("/stock/transfers")
async def ship_transfer(api: CallerDep, fields: FormDep) -> Response:
    """Units leave one location for another: in transit until received."""
    try:
        transfer_id = _transfer_id(fields.get("transfer_id", ""))
        body: dict[str, Any] = {
            "transfer_id": transfer_id,
            "from_location": fields.get("from_location", "").strip(),
            "to_location": fields.get("to_location", "").strip(),
            "lines": _typed_lines(fields.get("lines", "")),
            "expected_at": _utc(fields.get("expected_at", "")),
        }
    except FormError as error:
        return back("/stock/transfers", problem=str(error))
    _, problem = await attempt(api, INVENTORY, "/transfers", body)
    if problem:
        return back("/stock/transfers", problem=problem)
    note = "Transfer shipped: the units are on the way."
    return back(f"/stock/transfers/{transfer_id}", note=note)


@router.get("/stock/transfers/{transfer_id}", response_class=HTMLResponse)
async def transfer(request: Request, transfer_id: str, api: CallerDep) -> HTMLResponse:
    """One transfer: what left, what arrived, what is still on the way."""
    _transfer_path(transfer_id)
    found = await api.get(INVENTORY, f"/transfers/{transfer_id}")
    return render(request, "transfer.html", transfer=found, idempotency_key=one_use_key())


@router.post("/stock/transfers/{transfer_id}/receive")
async def receive_transfer(transfer_id: str, api: CallerDep, fields: FormDep) -> Response:
    """Units of the transfer arrived at its destination (some, or all still on the way)."""
    here = _transfer_path(transfer_id)
    try:
        lines = _received_lines(fields)
    except FormError as error:
        return back(here, problem=str(error))
    if not lines:
        return back(here, problem="Type the units that arrived of at least one SKU.")
    path = f"/transfers/{transfer_id}/receive"
    _, problem = await attempt(api, INVENTORY, path, {"lines": lines}, key_header(fields))
    if problem:
        return back(here, problem=problem)
    units = sum(line["quantity"] for line in lines)
    return back(here, note=f"Received {units} unit{'' if units == 1 else 's'}.")


@router.post("/stock/transfers/{transfer_id}/cancel")
async def cancel_transfer(transfer_id: str, api: CallerDep, fields: FormDep) -> Response:
    """Call the transfer off before anything arrived: the units are back at the source."""
    here = _transfer_path(transfer_id)
    try:
        body = {"reason": _reason(fields)}
    except FormError as error:
        return back(here, problem=str(error))
    _, problem = await attempt(api, INVENTORY, f"/transfers/{transfer_id}/cancel", body)
    if problem:
        return back(here, problem=problem)
    return back(here, note="Transfer cancelled: the units are back at the source.")


async def _levels(api: Caller, sku: str, location_id: str, offset: int) -> dict[str, Any]:
    """A page of stock levels, of one SKU if one is named (a search no SKU can match finds
    none)."""
    if sku and not SKU.fullmatch(sku):
        return {"data": [], "count": 0}
    return dict(
        await api.get(
            INVENTORY,
            "/stock",
            sku=sku,
            location_id=location_id[:64],
            limit=PAGE_SIZE,
            offset=offset,
        )
    )


async def _catalogue(api: Caller, search: str) -> list[dict[str, Any]]:
    """Catalogue items matching a search (part of a name or SKU, or a GTIN)."""
    if not search:
        return []
    try:
        return list((await api.get(INVENTORY, "/items", search=search[:200], limit=20))["data"])
    except UpstreamProblem as problem:
        if problem.status == 401:
            raise
        return []


async def _or_none(api: Caller, path: str, **params: Any) -> Any:
    """A read that may find nothing (404): None then."""
    try:
        return await api.get(INVENTORY, path, **params)
    except UpstreamProblem as problem:
        if problem.status != 404:
            raise
        return None


def _sku(text: str) -> str:
    if not SKU.fullmatch(text):
        raise FormError("A SKU is 1-64 letters, digits, '.', '_', '-' or '/'.")
    return text


def _reason(fields: dict[str, str]) -> str:
    reason = " ".join(fields.get("reason", "").split())
    if not reason:
        raise FormError("Give a reason.")
    return reason[:200]


def _transfer_id(text: str) -> str:
    """A transfer id typed into a form; FormError for anything else."""
    text = text.strip()
    if not TRANSFER_ID.fullmatch(text):
        raise FormError("A transfer id is 1-64 letters, digits, '.', '_' or '-'.")
    return text


def _transfer_path(transfer_id: str) -> str:
    """A transfer's page; 404 for an id no transfer can have."""
    if not TRANSFER_ID.fullmatch(transfer_id):
        raise HTTPException(404)
    return f"/stock/transfers/{transfer_id}"


def _typed_lines(text: str) -> list[dict[str, Any]]:
    """Lines typed one per row as 'SKU quantity' (or 'SKU,quantity')."""
    lines: dict[str, int] = {}
    for row in text.splitlines():
        parts = row.replace(",", " ").replace(";", " ").split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) <= 0:
            raise FormError(f"Write each line as 'SKU quantity': {row.strip()!r}.")
        lines[_sku(parts[0])] = lines.get(parts[0], 0) + int(parts[1])
    if not lines:
        raise FormError("Name at least one SKU and its units.")
    return [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()]


def _received_lines(fields: dict[str, str]) -> list[dict[str, Any]]:
    """The SKUs whose arrived units were typed, as the API takes them."""
    lines = []
    for name, sku in sorted(fields.items()):
        if not name.startswith("sku_"):
            continue
        index = name.removeprefix("sku_")
        if fields.get(f"quantity_{index}", "").strip() in ("", "0"):
            continue
        lines.append({"sku": _sku(sku), "quantity": whole_number(fields, f"quantity_{index}", sku)})
    return lines


def _utc(text: str) -> str | None:
    """A datetime-local field's value (read as UTC) in RFC 3339; None when left empty."""
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FormError("The expected arrival is a date and time.") from None
    return moment.replace(tzinfo=moment.tzinfo or UTC).isoformat()


def _sku_path(sku: str) -> str:
    return f"/stock/sku/{in_path(sku)}"


def _bins_path(location_id: str) -> str:
    return f"/stock/bins?{urlencode({'location_id': location_id})}"
