"""Order HTTP API: query orders, cancel them, record payments, change the ship-to, edit lines."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated, NoReturn
from uuid import UUID

from fastapi import APIRouter, Body, Query

from services.order_service.application import Orders
from services.order_service.domain import (
    LineCut,
    NoCancelRequestError,
    OrderCancelledError,
    OrderEditError,
    OrderLine,
    OrderNotCancellableError,
    OrderNotEditableError,
    OrderNotFoundError,
    OrderStatus,
)
from services.order_service.schemas import (
    CancelRequestAnswer,
    CancelRequestAnswered,
    OrderCancel,
    OrderCancelled,
    OrderEdit,
    OrderEdited,
    OrderLinePublic,
    OrderPublic,
    OrdersPublic,
    PaymentCreate,
    PaymentRecorded,
    ShipToChange,
    ShipToChanged,
)
from services.order_service.views import OrderSearch, OrderViews
from shared import money
from shared.payments import PaymentState
from shared.runtime.access import AccessPolicy, Grant, Rule
from shared.runtime.api import (
    PageQuery,
    Problem,
    TimeQuery,
    links,
    page_query,
    problems,
    provide,
)

AppDep = Annotated[Orders, provide(Orders)]
ViewsDep = Annotated[OrderViews, provide(OrderViews)]
PageDep = Annotated[PageQuery, page_query(default=50, maximum=200)]

router = APIRouter(prefix="/orders", tags=["orders"])
ORDER_OPERATIONS = (
    "GET /v1/orders/{order_id}",
    "POST /v1/orders/{order_id}/cancel",
    "POST /v1/orders/{order_id}/payments",
    "POST /v1/orders/{order_id}/ship-to",
    "POST /v1/orders/{order_id}/edits",
    "POST /v1/orders/{order_id}/cancel-request",
)


@router.get("", response_model=OrdersPublic, responses=links(200, *ORDER_OPERATIONS, at="/data/0"))
def list_orders(
    views: ViewsDep,
    *,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="An order's id, its number at the channel (#1001, or 1001), its"
            " external id, or a part of two characters or more of the customer's name or"
            " e-mail (any case, any script)",
        ),
    ] = None,
    email: Annotated[
        str | None,
        Query(min_length=1, max_length=320, description="The customer's whole e-mail, any case"),
    ] = None,
    sku: Annotated[
        str | None, Query(min_length=1, max_length=200, description="A SKU of one of its lines")
    ] = None,
    status: OrderStatus | None = None,
    channel: str | None = None,
    payment_state: PaymentState | None = None,
    placed_from: Annotated[
        TimeQuery | None,
        Query(description="Placed at or after this time (RFC 3339, with its offset)"),
    ] = None,
    placed_to: Annotated[
        TimeQuery | None, Query(description="Placed before this time (RFC 3339, with its offset)")
    ] = None,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="next_cursor of the previous page: the page after it, however many"
            " orders came in since (not with offset)",
        ),
    ] = None,
    page: PageDep,
) -> OrdersPublic:
    """Orders, newest first, searched and filtered (all given filters apply); `next_cursor`
    leads to the next page while there is one. `count` is how many match in all."""
    if placed_from is not None and placed_to is not None and placed_to <= placed_from:
        _invalid("placed_to", "must be after placed_from")
    if cursor is not None and page.offset:
        _invalid("offset", "a cursor page takes no offset")
    search = OrderSearch(
        q=q,
        email=email,
        sku=sku,
        status=status,
        channel=channel,
        payment_state=payment_state,
        placed_from=placed_from,
        placed_to=placed_to,
        after=None if cursor is None else _decode_cursor(cursor),
    )
    found = views.search_orders(search, limit=page.limit, offset=page.offset)
    last = found.rows[-1] if found.rows and found.more else None
    return OrdersPublic(
        data=[OrderPublic.model_validate(r) for r in found.rows],
        count=found.count,
        count_capped=found.capped,
        limit=page.limit,
        offset=page.offset,
        next_cursor=None if last is None else _encode_cursor(last["placed_at"], last["order_id"]),
    )


def _encode_cursor(placed_at: datetime, order_id: UUID) -> str:
    """An opaque place in the newest-first order: the last row's placed_at and order id."""
    raw = json.dumps([placed_at.isoformat(), str(order_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The place a cursor of ours names; 422 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        placed_at, order_id = json.loads(raw)
        moment = datetime.fromisoformat(placed_at)
        if moment.tzinfo is None:
            raise ValueError("no offset")
        return moment, UUID(order_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        _invalid("cursor", "not a next_cursor of this API")


def _invalid(parameter: str, message: str) -> NoReturn:
    """Answer 422 for a query parameter, as a validation error of FastAPI would be."""
    error = {"loc": ["query", parameter], "msg": message, "type": "value_error"}
    raise Problem(422, "Invalid request", f"query.{parameter}: {message}", errors=[error])


@router.get("/{order_id}", response_model=OrderPublic)
def get_order(order_id: UUID, views: ViewsDep) -> OrderPublic:
    """One order with its timeline."""
    row = views.get_order(order_id)
    if row is None:
        raise Problem(404, "Order not found", f"no order {order_id}")
    return OrderPublic.model_validate(row)


@router.post(
    "/{order_id}/cancel", response_model=OrderCancelled, status_code=202, responses=problems(409)
)
def cancel_order(
    order_id: UUID, app: AppDep, body: Annotated[OrderCancel | None, Body()] = None
) -> OrderCancelled:
    """Cancel an order that has not shipped; its reservation and shipments are released."""
    order = app.cancel_order(order_id, (body or OrderCancel()).reason)
    return OrderCancelled(order_id=order.id, status=order.status)


@router.post(
    "/{order_id}/cancel-request",
    response_model=CancelRequestAnswered,
    status_code=202,
    responses=problems(409),
)
def answer_cancel_request(
    order_id: UUID, body: CancelRequestAnswer, app: AppDep
) -> CancelRequestAnswered:
    """Answer the buyer's cancellation request held for ops (channel policy `ops`): accepting
    cancels the order (409 once it is under way), refusing keeps it going; the channel is told.
    409 when no request waits for an answer."""
    order = app.answer_cancel_request(order_id, body.accept, "ops", body.why)
    return CancelRequestAnswered(order_id=order.id, status=order.status, accepted=body.accept)


@router.post(
    "/{order_id}/payments",
    response_model=PaymentRecorded,
    status_code=202,
    responses=problems(409),
)
def record_payment(order_id: UUID, body: PaymentCreate, app: AppDep) -> PaymentRecorded:
    """Record what the merchant saw of the payment (a bank transfer, cash on delivery collected);
    an order held for payment goes to the warehouse once its channel's policy allows."""
    if body.amount is not None:
        _check_fits(body.amount, app.get_order(order_id).currency)
    order = app.record_payment(
        order_id,
        body.payment_state,
        amount=body.amount,
        reference=body.reference,
        source="merchant",
    )
    return PaymentRecorded(
        order_id=order.id, status=order.status, payment_state=order.payment_state
    )


@router.post(
    "/{order_id}/ship-to", response_model=ShipToChanged, status_code=202, responses=problems(409)
)
def change_ship_to(order_id: UUID, body: ShipToChange, app: AppDep) -> ShipToChanged:
    """Ship the order to another address, before any of it is picked: its open shipments take
    it. Refused once it was cancelled or shipped, or picking started (the problem names the
    shipment). The stock stays reserved where it was routed."""
    order = app.change_ship_to(order_id, body.shipping_address.address(), body.reason)
    return ShipToChanged(
        order_id=order.id, status=order.status, shipping_address=dict(order.shipping_address)
    )


@router.post(
    "/{order_id}/edits", response_model=OrderEdited, status_code=202, responses=problems(409)
)
def edit_order(order_id: UUID, body: OrderEdit, app: AppDep) -> OrderEdited:
    """Cancel units of lines and add lines, before any of the order is picked: its stock is
    reserved again for the new lines, its open shipments are replaced, what was paid for
    cancelled units of a paid order is refunded, and the channel is told. Refused once it was
    cancelled or shipped, or picking started (the problem names the shipment)."""
    currency = app.get_order(order_id).currency
    for added in body.add:
        _check_fits(added.unit_price, currency)
    cancel = [LineCut(line=item.line, quantity=item.quantity) for item in body.cancel]
    add = [
        _added_line(added.sku, added.quantity, added.unit_price, added.title) for added in body.add
    ]
    order = app.edit_lines(order_id, cancel, add, body.reason)
    return OrderEdited(
        order_id=order.id,
        status=order.status,
        revision=order.revision,
        payment_state=order.payment_state,
        lines=[OrderLinePublic.model_validate(line) for line in order.lines],
    )


def _added_line(sku: str, quantity: int, unit_price: Decimal, title: str | None) -> OrderLine:
    """A line ops add: what it costs is what the buyer owes for it (no discount, no tax)."""
    line = OrderLine(
        sku=sku,
        quantity=quantity,
        unit_price=format(unit_price, "f"),
        paid=format(unit_price * quantity, "f"),
    )
    if title is not None:
        line["title"] = title
    return line


def _check_fits(amount: Decimal, currency: str) -> None:
    """422 when an amount has more decimal places than the order's currency allows."""
    if not money.fits(amount, currency):
        raise Problem(
            422,
            "Amount does not fit the currency",
            f"{amount} has more decimal places than {currency} allows"
            f" ({money.minor_units(currency)})",
        )


ROUTERS: list[APIRouter] = [router]
ACCESS = AccessPolicy({"/orders": Rule(writes=Grant.OPS)})
"""Who may call what: ops change orders, every role reads them."""
ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    OrderNotFoundError: (404, "Order not found"),
    OrderNotCancellableError: (409, "Order not cancellable"),
    OrderCancelledError: (409, "Order cancelled"),
    OrderNotEditableError: (409, "Order not editable"),
    OrderEditError: (422, "Edit not possible"),
    NoCancelRequestError: (409, "No cancellation request"),
}
