"""Returns: the list, requesting one for a shipped order (units from what it may still
return), and receiving one line by line as sellable or damaged, with the refund that follows."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console.pages.calls import (
    PAGE_SIZE,
    PROBLEM_CHARS,
    Shown,
    next_offset,
    offset_of,
    or_none,
    read_or_problem,
    until_shown,
)
from services.console.pages.deps import CallerDep, FormDep, back, render
from services.console.upstream import UpstreamProblem

router = APIRouter()
STATUSES = ("requested", "partially_received", "received")
CONDITIONS = ("sellable", "damaged")  # as the returns API names them
MAX_UNITS = 100_000  # the returns API's bound on a line's units


@router.get("/returns", response_class=HTMLResponse)
async def returns(request: Request, api: CallerDep) -> HTMLResponse:
    """Returns, newest first, by status and order."""
    status = request.query_params.get("status", "").strip()
    order_id = request.query_params.get("order_id", "").strip()
    offset = offset_of(request)
    page = await read_or_problem(
        api,
        "returns_service",
        "/returns",
        status=status,
        order_id=order_id,
        limit=PAGE_SIZE,
        offset=offset,
    )
    return render(
        request,
        "returns.html",
        page=page,
        status=status,
        order_id=order_id,
        statuses=STATUSES,
        next=next_offset(page, offset),
    )


@router.get("/returns/new", response_class=HTMLResponse)
async def new_return(request: Request, api: CallerDep) -> HTMLResponse:
    """The units an order may still return, to choose from; an order id to look up first."""
    given = request.query_params.get("order_id", "").strip()
    order_id = _uuid(given)
    refundable: Any = None
    order: Any = None
    problem = None
    if given and order_id is None:
        problem = f"{given!r} is not an order id."
    elif order_id is not None:
        try:
            refundable, order = await asyncio.gather(
                api.get("returns_service", f"/refundable/{order_id}"),
                or_none(api, "order_service", f"/orders/{order_id}"),
            )
        except UpstreamProblem as refused:
            problem = f"{refused.title}: {refused.detail}"
    return render(
        request,
        "return_new.html",
        order_id=given,
        refundable=refundable,
        order=order,
        failure=problem,
        request_key=str(uuid.uuid4()),
    )


@router.post("/returns")
async def request_return(api: CallerDep, fields: FormDep) -> Response:
    """Authorise a return (RMA) of the chosen units of a shipped order."""
    order_id = _uuid(fields.get("order_id", ""))
    if order_id is None:
        return back("/returns/new", problem="Give the order's id.")
    here = f"/returns/new?order_id={order_id}"
    reason = fields.get("reason", "").strip()
    try:
        units = _units(fields, "quantity")
    except ValueError as error:
        return back(here, problem=str(error))
    if not units:
        return back(here, problem="Choose at least one unit to return.")
    if not reason:
        return back(here, problem="Say why the customer sends them back.")
    body = {
        "order_id": str(order_id),
        "lines": [{"sku": sku, "quantity": n, "reason": reason} for sku, n in units.items()],
    }
    try:
        made = await api.post(
            "returns_service", "/returns", body, headers=_idempotency(fields.get("request_key"))
        )
    except UpstreamProblem as refused:
        return back(here, problem=f"{refused.title}: {refused.detail}"[:PROBLEM_CHARS])
    await until_shown(api, _shown(made))
    note = "Return authorised: receive it when it arrives."
    return back(f"/returns/{made['return_id']}", note=note)


@router.get("/returns/{return_id}", response_class=HTMLResponse)
async def one_return(request: Request, return_id: UUID, api: CallerDep) -> HTMLResponse:
    """One return: what was asked for and what came back, receipts, and the order's refunds."""
    found = await api.get("returns_service", f"/returns/{return_id}")
    refunds, order = await asyncio.gather(
        read_or_problem(
            api, "returns_service", "/refunds", order_id=found["order_id"], limit=PAGE_SIZE
        ),
        or_none(api, "order_service", f"/orders/{found['order_id']}"),
    )
    return render(
        request,
        "return.html",
        rma=found,
        refunds=refunds,
        order=order,
        conditions=CONDITIONS,
        receipt_key=str(uuid.uuid4()),
    )


@router.post("/returns/{return_id}/receive")
async def receive(return_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """Record what arrived, per line sellable or damaged; the returns service refunds it."""
    here = f"/returns/{return_id}"
    try:
        lines = [
            {"sku": sku, "quantity": n, "condition": condition}
            for condition in CONDITIONS
            for sku, n in _units(fields, condition).items()
        ]
    except ValueError as error:
        return back(here, problem=str(error))
    if not lines:
        return back(here, problem="Enter the units that arrived, sellable or damaged.")
    try:
        received = await api.post(
            "returns_service",
            f"/returns/{return_id}/receive",
            {"lines": lines},
            headers=_idempotency(fields.get("receipt_key")),
        )
    except UpstreamProblem as refused:
        return back(here, problem=f"{refused.title}: {refused.detail}"[:PROBLEM_CHARS])
    await until_shown(api, _shown(received))
    return back(here, note=_received_note(received))


def _shown(done: dict[str, Any]) -> Shown:
    """The return as the list shows it once it holds what the command answered."""
    return Shown(
        "returns_service",
        f"/returns/{done['return_id']}",
        lambda shown: all(len(shown[k]) >= len(done[k]) for k in ("receipts", "refunds")),
    )


def _units(fields: dict[str, str], prefix: str) -> dict[str, int]:
    """SKU -> units from the rows `sku_<n>` and `<prefix>_<n>` of a form (empty and 0 left out).

    ValueError, saying which SKU, for units that are not a whole number from 0 up.
    """
    units: dict[str, int] = {}
    for name, sku in fields.items():
        row = name.removeprefix("sku_")
        if row == name:
            continue
        given = fields.get(f"{prefix}_{row}", "").strip()
        if not given:
            continue
        if not given.isdigit() or int(given) > MAX_UNITS:
            raise ValueError(f"{sku}: {given!r} is not a number of units.")
        if int(given):
            units[sku] = units.get(sku, 0) + int(given)
    return units


def _received_note(received: dict[str, Any]) -> str:
    """What the receipt did: the refund it made, in the return's currency."""
    refunds = received.get("refunds") or []
    if not refunds:
        return "Received."
    refund = max(refunds, key=lambda r: r.get("sequence") or 0)
    capped = " (capped at what was left to refund)" if refund.get("capped") else ""
    return f"Received: {refund['amount']} {refund['currency']} refunded{capped}."


def _idempotency(key: str | None) -> dict[str, str]:
    """The form's own key: sending it twice (a double click, a retry) records it once."""
    return {"Idempotency-Key": key} if key and len(key) <= 255 else {}


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text.strip())
    except ValueError:
        return None
