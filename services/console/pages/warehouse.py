"""The warehouse floor: open shipments per location, pick lists (make, confirm, cancel), a
shipment packed by scanning its units, rated and shipped, and every paper to print."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from services.console.pages.calls import offset_of
from services.console.pages.deps import CallerDep, FormDep, back, render
from services.console.pages.floor import (
    FULFILLMENT,
    INVENTORY,
    FormError,
    attempt,
    document,
    in_path,
    key_header,
    locations,
    one_use_key,
    whole_number,
)
from services.console.upstream import Caller, UpstreamProblem

router = APIRouter()
SHIPMENT_STATUSES = ("open", "picking", "picked", "short", "packed", "shipped", "cancelled")
PICK_LIST_STATUSES = ("open", "completed", "cancelled")
PAGE_SIZE = 50
PICK_LIST_SLOTS = 20  # a cart's totes, unless the picker asks for another number
# Outer sizes (mm) of the boxes on the bench; the packer may type another.
BOXES = {
    "small": (250, 180, 100),
    "medium": (350, 250, 150),
    "large": (450, 350, 250),
}
# The shipment pages read fulfillment's views, which follow its commands within milliseconds as a
# rule: after an action the console waits up to this long for the view to show it.
SETTLE_SECONDS = 3.0
SCAN = re.compile(r"^[\x21-\x7e]{1,64}$")  # what a barcode reader types: printable ASCII
MAX_SCANS = 1000
# The papers each thing prints: the console's path part -> the API's.
PICK_LIST_PAPERS = {"document.pdf", "labels.pdf", "labels.zpl"}
SHIPMENT_PAPERS = {"packing-slip.pdf", "labels.pdf", "labels.zpl"}
PACKAGE_PAPERS = {"label.pdf", "label.zpl"}


@router.get("/warehouse", response_class=HTMLResponse)
async def warehouse(request: Request, api: CallerDep) -> HTMLResponse:
    """A location's shipments by status, its pick lists, and making the next pick list."""
    places = await locations(api)
    asked = request.query_params
    location_id = asked.get("location_id") or (places[0]["location_id"] if places else "")
    status = asked.get("status", "open")
    status = status if status in SHIPMENT_STATUSES else ""
    offset = offset_of(request)
    counts: dict[str, int] = {}
    shipments: dict[str, Any] = {"data": [], "count": 0}
    pick_lists: dict[str, Any] = {"data": [], "count": 0}
    if location_id:
        counts, shipments, pick_lists = await asyncio.gather(
            _counts(api, location_id),
            api.get(
                FULFILLMENT,
                "/shipments",
                location_id=location_id,
                status=status,
                limit=PAGE_SIZE,
                offset=offset,
            ),
            api.get(FULFILLMENT, "/pick-lists", location_id=location_id, limit=20),
        )
    return render(
        request,
        "warehouse.html",
        locations=places,
        location_id=location_id,
        status=status,
        statuses=SHIPMENT_STATUSES,
        counts=counts,
        shipments=shipments,
        pick_lists=pick_lists,
        offset=offset,
        page_size=PAGE_SIZE,
        slots=min(counts.get("open", 0), PICK_LIST_SLOTS) or PICK_LIST_SLOTS,
        idempotency_key=one_use_key(),
    )


@router.post("/warehouse/pick-lists")
async def make_pick_list(api: CallerDep, fields: FormDep) -> Response:
    """The oldest open shipments of the location, as many as asked, on one walk."""
    location_id = fields.get("location_id", "").strip()
    here = f"/warehouse?{urlencode({'location_id': location_id})}"
    try:
        body = {
            "location_id": location_id,
            "max_shipments": whole_number(fields, "max_shipments", "Shipments"),
            "carrier": fields.get("carrier", "").strip() or None,
        }
    except FormError as error:
        return back(here, problem=str(error))
    made, problem = await attempt(api, FULFILLMENT, "/pick-lists", body, key_header(fields))
    if problem:
        return back(here, problem=problem)
    count = len(made["slots"])
    return back(
        f"/warehouse/pick-lists/{made['pick_list_id']}",
        note=f"Pick list made: {count} shipment{'' if count == 1 else 's'}.",
    )


@router.get("/warehouse/pick-lists/{pick_list_id}", response_class=HTMLResponse)
async def pick_list(request: Request, pick_list_id: UUID, api: CallerDep) -> HTMLResponse:
    """One pick list: its lines in pick-path order, the slots, confirming and cancelling."""
    found = await api.get(FULFILLMENT, f"/pick-lists/{pick_list_id}")
    return render(request, "pick_list.html", pick_list=found)


@router.post("/warehouse/pick-lists/{pick_list_id}/confirm")
async def confirm_picks(pick_list_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """What the picker found per line; a line left empty is confirmed later."""
    here = f"/warehouse/pick-lists/{pick_list_id}"
    try:
        lines = _picks(fields)
    except FormError as error:
        return back(here, problem=str(error))
    if not lines:
        return back(here, problem="Type the units found of at least one line.")
    path = f"/pick-lists/{pick_list_id}/confirm"
    confirmed, problem = await attempt(api, FULFILLMENT, path, {"lines": lines})
    if problem:
        return back(here, problem=problem)
    short = sum(1 for line in lines if _line_short(confirmed, line))
    done = f"{len(lines)} line{'' if len(lines) == 1 else 's'} confirmed"
    done += f", {short} short." if short else "."
    if confirmed["status"] == "completed":
        done += " The list is complete: its shipments are picked."
        await _picked(api, confirmed)
    return back(here, note=done)


@router.post("/warehouse/pick-lists/{pick_list_id}/cancel")
async def cancel_pick_list(pick_list_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """The walk will not happen: its shipments are open for the next list."""
    here = f"/warehouse/pick-lists/{pick_list_id}"
    body = {"reason": fields.get("reason", "").strip()[:200] or "cancelled by operator"}
    _, problem = await attempt(api, FULFILLMENT, f"/pick-lists/{pick_list_id}/cancel", body)
    if problem:
        return back(here, problem=problem)
    return back(here, note="Pick list cancelled; its shipments are open again.")


@router.get("/warehouse/pick-lists/{pick_list_id}/{paper}")
async def pick_list_paper(pick_list_id: UUID, paper: str, api: CallerDep) -> Response:
    """The pick list to print, or its shipped packages' labels (PDF or ZPL)."""
    _known(paper, PICK_LIST_PAPERS)
    path = f"/pick-lists/{pick_list_id}/{paper}"
    return await document(api, FULFILLMENT, path, f"pick-list-{pick_list_id}-{paper}")


@router.get("/warehouse/shipments/{shipment_id}", response_class=HTMLResponse)
async def shipment(request: Request, shipment_id: UUID, api: CallerDep) -> Response:
    """One shipment: lines, picks, packages; packing by scanning, rates and shipping."""
    asked = request.query_params
    codes = asked.get("scans", "").split()
    scan = asked.get("scan", "").strip()
    if "scan" in asked:  # a scan was just read: keep it in the address, then show the page
        return _scanned(shipment_id, codes, scan)
    found = await api.get(FULFILLMENT, f"/shipments/{shipment_id}")
    left = _left_to_pack(found)
    items = await _items(api, sorted(left))
    parcel = Parcel.of(codes, left, items)
    rates = await _rates(api, found) if found["status"] == "packed" else []
    return render(
        request,
        "shipment.html",
        shipment=found,
        left=left,
        parcel=parcel,
        rates=rates,
        boxes=BOXES,
        idempotency_key=one_use_key(),
    )


@router.post("/warehouse/shipments/{shipment_id}/packages")
async def close_parcel(shipment_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """Close the parcel: the scanned units, its weight and size become a package."""
    codes = fields.get("scans", "").split()
    here = _shipment_path(shipment_id, codes)
    if not codes:
        return back(here, problem="Scan the parcel's units first.")
    found = await api.get(FULFILLMENT, f"/shipments/{shipment_id}")
    left = _left_to_pack(found)
    parcel = Parcel.of(codes, left, await _items(api, sorted(left)))
    try:
        body = {
            "items": parcel.items(),
            "weight_grams": whole_number(fields, "weight_grams", "Weight (g)"),
            "dimensions_mm": _dimensions(fields),
        }
    except FormError as error:
        return back(here, problem=str(error))
    path = f"/shipments/{shipment_id}/packages"
    packed, problem = await attempt(api, FULFILLMENT, path, body, key_header(fields))
    if problem:
        return back(here, problem=problem)
    await _settled(api, shipment_id, lambda s: packed["package_id"] in _package_ids(s))
    rest = ", ".join(f"{line['quantity']} x {line['sku']}" for line in packed["unpacked"])
    note = f"Parcel closed: SSCC {packed['sscc']}. "
    note += f"Still to pack: {rest}." if rest else "Everything is packed: ship it."
    return back(_shipment_path(shipment_id, []), note=note)


@router.post("/warehouse/shipments/{shipment_id}/packages/{package_id}/remove")
async def unpack(shipment_id: UUID, package_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """Undo a packing mistake: the package is gone, its units are to pack again."""
    here = _shipment_path(shipment_id, [])
    try:
        await api.request(FULFILLMENT, "DELETE", f"/shipments/{shipment_id}/packages/{package_id}")
    except UpstreamProblem as problem:
        if problem.status in (401, 403):
            raise
        return back(here, problem=f"{problem.title}: {problem.detail}")
    await _settled(api, shipment_id, lambda s: str(package_id) not in _package_ids(s))
    return back(here, note="Package removed; its units are to pack again.")


@router.post("/warehouse/shipments/{shipment_id}/ship")
async def ship(shipment_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """The shipment leaves: with a rate-table carrier's service, or a carrier's own numbers."""
    here = _shipment_path(shipment_id, [])
    try:
        body = _ship_body(fields)
    except FormError as error:
        return back(here, problem=str(error))
    shipped, problem = await attempt(api, FULFILLMENT, f"/shipments/{shipment_id}/ship", body)
    if problem:
        return back(here, problem=problem)
    await _settled(api, shipment_id, lambda s: s["status"] == "shipped")
    numbers = [p["tracking_number"] for p in shipped["packages"] if p.get("tracking_number")]
    tracking = ", ".join(numbers) or shipped.get("tracking_number") or "none"
    return back(here, note=f"Shipped with {shipped['carrier']}: tracking {tracking}.")


@router.get("/warehouse/shipments/{shipment_id}/{paper}")
async def shipment_paper(shipment_id: UUID, paper: str, api: CallerDep) -> Response:
    """The shipment's packing slip, or its labels once it shipped (PDF or ZPL)."""
    _known(paper, SHIPMENT_PAPERS)
    path = f"/shipments/{shipment_id}/{paper}"
    return await document(api, FULFILLMENT, path, f"shipment-{shipment_id}-{paper}")


@router.get("/warehouse/packages/{package_id}/{paper}")
async def package_paper(package_id: UUID, paper: str, api: CallerDep) -> Response:
    """One package's label (PDF or ZPL), once its shipment shipped."""
    _known(paper, PACKAGE_PAPERS)
    path = f"/packages/{package_id}/{paper}"
    return await document(api, FULFILLMENT, path, f"package-{package_id}-{paper}")


@dataclass(frozen=True)
class Scanned:
    """One barcode read at the bench, and the SKU it was counted as."""

    code: str
    sku: str
    known: bool  # False: not a barcode of this shipment's items as the catalogue says


@dataclass(frozen=True)
class Parcel:
    """The parcel being packed: its scans in the order read, counted per SKU."""

    scans: tuple[Scanned, ...]
    weight_grams: int | None  # from the catalogue's unit weights, when every unit has one

    @classmethod
    def of(cls, codes: list[str], left: dict[str, int], items: dict[str, Any]) -> Parcel:
        """The scans as the page keeps them, each counted as the SKU it is a barcode of.

        A barcode the catalogue does not know for any SKU left to pack counts as the SKU
        packed before it (else the first SKU left): the fulfillment API, not the console,
        decides whether it is one, and its refusal (422) is what the packer sees.
        """
        barcodes = _barcodes(items)
        current = next((sku for sku, n in left.items() if n > 0), next(iter(left), ""))
        scans = []
        for code in codes:
            sku = code if code in left else barcodes.get(_gtin14(code))
            if sku is not None:
                current = sku
            scans.append(Scanned(code, sku or current, sku is not None))
        return cls(tuple(scans), _weight(scans, items))

    def counted(self) -> dict[str, int]:
        """Units per SKU in the parcel."""
        return dict(Counter(scan.sku for scan in self.scans))

    def items(self) -> list[dict[str, Any]]:
        """The package's items as the API takes them, each with the barcodes read off it."""
        codes: dict[str, list[str]] = {}
        for scan in self.scans:
            codes.setdefault(scan.sku, []).append(scan.code)
        return [{"sku": s, "quantity": len(c), "scans": c} for s, c in codes.items()]

    def without(self, index: int) -> str:
        """The scans kept in the address, without the one at `index`."""
        return " ".join(s.code for i, s in enumerate(self.scans) if i != index)

    def kept(self) -> str:
        """The scans kept in the form or the address."""
        return " ".join(s.code for s in self.scans)


def _scanned(shipment_id: UUID, codes: list[str], scan: str) -> Response:
    """Back to the shipment with the new scan added to those kept, or why it was not."""
    if not scan:  # Enter in an empty field
        return back(_shipment_path(shipment_id, codes))
    if not SCAN.fullmatch(scan):
        problem = "That scan is not a barcode (printable characters, at most 64)."
        return back(_shipment_path(shipment_id, codes), problem=problem)
    if len(codes) >= MAX_SCANS:
        problem = f"A parcel takes at most {MAX_SCANS} scans: close this one first."
        return back(_shipment_path(shipment_id, codes), problem=problem)
    return back(_shipment_path(shipment_id, [*codes, scan]))


def _shipment_path(shipment_id: UUID, codes: list[str]) -> str:
    """The shipment page, keeping the parcel's scans (they live in the address, nowhere else)."""
    page = f"/warehouse/shipments/{shipment_id}"
    return f"{page}?{urlencode({'scans': ' '.join(codes)})}" if codes else page


def _left_to_pack(shipment: dict[str, Any]) -> dict[str, int]:
    """Units per SKU picked for the shipment and in no package yet (by the shipment's lines
    before it is picked)."""
    left: dict[str, int] = {}
    if shipment.get("picked") is None:
        for line in shipment["lines"]:
            left[line["sku"]] = left.get(line["sku"], 0) + line["quantity"]
    else:
        for picked in shipment["picked"]:
            left[picked["sku"]] = left.get(picked["sku"], 0) + picked["picked"]
    for package in shipment["packages"]:
        for item in package["items"]:
            left[item["sku"]] = left.get(item["sku"], 0) - item["quantity"]
    return left


async def _items(api: Caller, skus: list[str]) -> dict[str, Any]:
    """The catalogue's item of each SKU (GTINs and unit weight), for those it knows."""
    found = await asyncio.gather(*(_item(api, sku) for sku in skus))
    return {sku: item for sku, item in zip(skus, found, strict=True) if item}


async def _item(api: Caller, sku: str) -> Any:
    try:
        return await api.get(INVENTORY, f"/items/{in_path(sku)}")
    except UpstreamProblem as problem:
        if problem.status == 401:
            raise
        return None  # not in the catalogue: only its SKU is its barcode


def _barcodes(items: dict[str, Any]) -> dict[str, str]:
    """GTIN (as 14 digits) -> SKU, of the items."""
    return {_gtin14(gtin): sku for sku, item in items.items() for gtin in item.get("gtins", [])}


def _gtin14(code: str) -> str:
    """A GTIN as 14 digits, so an EAN-13 and a UPC-A reading of one barcode compare equal."""
    return code.zfill(14) if code.isdigit() and len(code) <= 14 else code


def _weight(scans: list[Scanned], items: dict[str, Any]) -> int | None:
    """The parcel's weight by the catalogue, when it knows every unit's."""
    weights = [(items.get(scan.sku) or {}).get("weight_grams") for scan in scans]
    known = [grams for grams in weights if isinstance(grams, int)]
    return sum(known) if known and len(known) == len(weights) else None


def _dimensions(fields: dict[str, str]) -> dict[str, int]:
    """The parcel's outer size: typed, or the box chosen."""
    typed = [fields.get(k, "").strip() for k in ("length", "width", "height")]
    if any(typed):
        names = ("length", "width", "height")
        sizes = [whole_number(fields, k, f"The {k} (mm)") for k in names]
        return dict(zip(names, sizes, strict=True))
    box = BOXES.get(fields.get("box", ""))
    if box is None:
        raise FormError("Choose a box or type the parcel's size.")
    return dict(zip(("length", "width", "height"), box, strict=True))


def _picks(fields: dict[str, str]) -> list[dict[str, Any]]:
    """The lines whose picked units were typed, as the API takes them."""
    lines = []
    for name, sku in sorted(fields.items()):
        if not name.startswith("sku_"):
            continue
        index = name.removeprefix("sku_")
        if not fields.get(f"picked_{index}", "").strip():
            continue
        picked = whole_number(fields, f"picked_{index}", f"Picked of {sku}", signed=True)
        if picked < 0:
            raise FormError(f"Picked of {sku} cannot be below 0.")
        lines.append({"sku": sku, "picked": picked})
    return lines


def _line_short(pick_list: dict[str, Any], confirmed: dict[str, Any]) -> bool:
    """True when the line was confirmed with fewer units than it asks for."""
    line = next((x for x in pick_list["lines"] if x["sku"] == confirmed["sku"]), None)
    return line is not None and confirmed["picked"] < line["quantity"]


def _ship_body(fields: dict[str, str]) -> dict[str, Any]:
    """The ship request: carrier and service, or the tracking numbers the operator typed."""
    body: dict[str, Any] = {}
    for name in ("carrier", "service"):
        if fields.get(name, "").strip():
            body[name] = fields[name].strip()
    if fields.get("tracking_number", "").strip():
        body["tracking_number"] = fields["tracking_number"].strip()
    names = sorted((k for k in fields if k.startswith("package_tracking_")), key=_last_number)
    numbers = [fields[k].strip() for k in names]
    if any(numbers):
        if not all(numbers):
            raise FormError("Type a tracking number for every package, or none.")
        body["tracking_numbers"] = numbers
    return body


def _last_number(name: str) -> int:
    """The number a field's name ends with (package_tracking_3 -> 3)."""
    digits = name.rsplit("_", 1)[-1]
    return int(digits) if digits.isdigit() else -1


async def _counts(api: Caller, location_id: str) -> dict[str, int]:
    """Shipments per status at the location."""
    found = await asyncio.gather(
        *(
            api.count(FULFILLMENT, "/shipments", location_id=location_id, status=status)
            for status in SHIPMENT_STATUSES
        )
    )
    return dict(zip(SHIPMENT_STATUSES, found, strict=True))


async def _rates(api: Caller, shipment: dict[str, Any]) -> list[dict[str, Any]]:
    """What the rate-table carriers charge for the packed shipment (none when none do)."""
    try:
        return list(await api.get(FULFILLMENT, f"/shipments/{shipment['shipment_id']}/rates"))
    except UpstreamProblem as problem:
        if problem.status == 401:
            raise
        return []


async def _settled(
    api: Caller, shipment_id: UUID | str, done: Callable[[dict[str, Any]], bool]
) -> None:
    """Wait (a little) until the shipment's view shows what was done, so the page after an
    action shows it and not the row of a moment before."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_SECONDS
    while not done(await api.get(FULFILLMENT, f"/shipments/{shipment_id}")):
        if loop.time() > deadline:
            return  # the page shows what the view has; a reload shows the rest
        await asyncio.sleep(0.05)


async def _picked(api: Caller, pick_list: dict[str, Any]) -> None:
    """Wait until the completed list's shipments show as picked (the view applies events in
    order: once its last shipment left picking, all did)."""
    slots = [slot for slot in pick_list["slots"] if not slot["dropped"]]
    if slots:
        await _settled(api, slots[-1]["shipment_id"], lambda s: s["status"] != "picking")


def _package_ids(shipment: dict[str, Any]) -> set[str]:
    return {str(package["package_id"]) for package in shipment["packages"]}


def _known(paper: str, papers: set[str]) -> None:
    """A paper the thing prints; 404 for any other name."""
    if paper not in papers:
        raise HTTPException(404)
