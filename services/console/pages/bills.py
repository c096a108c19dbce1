"""Bills: the seller's bills by status, making one for a customer in a chat (its link is shown
once, to copy into the chat), and confirming a transfer once its slip is checked."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console.pages.calls import (
    PAGE_SIZE,
    PROBLEM_CHARS,
    act,
    next_offset,
    offset_of,
    read_or_problem,
)
from services.console.pages.deps import CallerDep, FormDep, back, render
from services.console.upstream import UpstreamProblem

router = APIRouter()
STATUSES = ("unpaid", "paid", "shipped", "expired", "cancelled")
CHATS = ("facebook", "instagram", "line", "other")
LINE_ROWS = 5  # lines on the form; a bill with more is made through the API


@router.get("/bills", response_class=HTMLResponse)
async def bills(request: Request, api: CallerDep) -> HTMLResponse:
    """Bills, newest first, filtered by status; the form to make one."""
    status = request.query_params.get("status", "").strip()
    offset = offset_of(request)
    page = await read_or_problem(
        api,
        "channel_gateway",
        "/bills",
        status=status if status in STATUSES else None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    return render(
        request,
        "bills.html",
        page=page,
        status=status,
        statuses=STATUSES,
        chats=CHATS,
        rows=range(LINE_ROWS),
        request_key=secrets.token_urlsafe(16),  # a double submit of the form makes one bill
        next=next_offset(page, offset),
    )


@router.post("/bills", response_class=HTMLResponse)
async def make_bill(request: Request, api: CallerDep, fields: FormDep) -> Response:
    """Make the bill; the page that answers shows its link (it is not kept: copy it now)."""
    try:
        body = _bill(fields)
    except ValueError as error:
        return back("/bills", problem=str(error))
    try:
        key = fields.get("request_key", "").strip()
        headers = {"Idempotency-Key": f"console-{key}"} if key else {}
        made = await api.post("channel_gateway", "/bills", body, headers=headers)
    except UpstreamProblem as refused:
        return back("/bills", problem=f"{refused.title}: {refused.detail}"[:PROBLEM_CHARS])
    # Rendered, not redirected: the link must not travel in a URL (history, logs).
    return render(request, "bill_made.html", made=made, handle=body["handle"])


@router.get("/bills/{bill_id}", response_class=HTMLResponse)
async def one_bill(request: Request, bill_id: UUID, api: CallerDep) -> HTMLResponse:
    """One bill: lines, money, what the customer confirmed, payment and tracking."""
    try:
        bill = await api.get("channel_gateway", f"/bills/{bill_id}")
    except UpstreamProblem as problem:
        return render(
            request,
            "problem.html",
            status_code=problem.status,
            title=problem.title,
            detail=problem.detail,
        )
    return render(request, "bill.html", bill=bill)


@router.get("/bills/{bill_id}/slip")
async def slip(bill_id: UUID, api: CallerDep) -> Response:
    """The customer's slip, as the gateway keeps it (an image or a PDF)."""
    try:
        answer = await api.document("channel_gateway", f"/bills/{bill_id}/slip")
    except UpstreamProblem as problem:
        return back(f"/bills/{bill_id}", problem=f"{problem.title}: {problem.detail}")
    kind = answer.headers.get("content-type", "application/octet-stream")
    return Response(
        answer.content,
        media_type=kind,
        headers={"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/bills/{bill_id}/payment")
async def confirm_payment(bill_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """The transfer arrived: the bill is paid and its order goes to the warehouse."""
    here = f"/bills/{bill_id}"
    reference = fields.get("reference", "").strip()
    if not reference:
        return back(here, problem="Give the transfer's reference (from the bank or the slip).")
    return await act(
        api,
        "channel_gateway",
        f"/bills/{bill_id}/payment",
        {"reference": reference},
        back_to=here,
        done="The payment is confirmed: the order goes to the warehouse.",
    )


def _bill(fields: dict[str, str]) -> dict[str, Any]:
    """The bill the form describes; ValueError naming what is missing."""
    lines = []
    for row in range(LINE_ROWS):
        sku = fields.get(f"sku_{row}", "").strip()
        quantity = fields.get(f"quantity_{row}", "").strip()
        price = fields.get(f"unit_price_{row}", "").strip()
        if not (sku or quantity or price):
            continue
        if not (sku and quantity.isdigit() and price):
            raise ValueError(f"Line {row + 1}: give its SKU, units and unit price.")
        line: dict[str, Any] = {"sku": sku, "quantity": int(quantity), "unit_price": price}
        if fields.get(f"title_{row}", "").strip():
            line["title"] = fields[f"title_{row}"].strip()
        lines.append(line)
    if not lines:
        raise ValueError("A bill needs at least one line.")
    body: dict[str, Any] = {
        "chat": fields.get("chat", "other"),
        "handle": fields.get("handle", "").strip(),
        "customer_name": fields.get("customer_name", "").strip(),
        "currency": fields.get("currency", "").strip().upper(),
        "lines": lines,
        "shipping_fee": fields.get("shipping_fee", "").strip() or "0",
        "discount": fields.get("discount", "").strip() or "0",
    }
    if fields.get("note", "").strip():
        body["note"] = fields["note"].strip()
    return body
