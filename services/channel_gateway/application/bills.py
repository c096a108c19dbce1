"""Use cases of bills: make one, the customer confirms it (its order placed through intake), it is
paid (card webhook or a confirmed transfer), follows its order's shipments, or expires unpaid."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import ValidationError

from services.channel_gateway.application.canonical import CanonicalOrderModel
from services.channel_gateway.application.chat import (
    CHAT_EMAIL_REF,
    CHAT_HANDLE_REF,
    CHAT_KIND_REF,
    CHAT_LANGUAGE_REF,
)
from services.channel_gateway.application.deliveries import utc_stamp
from services.channel_gateway.application.intake import Translation
from services.channel_gateway.domain import (
    BILL_CHANNEL,
    PAYMENT_STATE_ON_CONFIRM,
    Bill,
    BillClosedError,
    BillLine,
    BillNotFoundError,
    BillShipment,
    ChannelOrder,
    ChannelOrderStatus,
    Confirmation,
    CustomerStatus,
    IdempotencyKeyReusedError,
    InvalidBillError,
    PaymentMethod,
    Slip,
    bill_id_for,
    order_id_for,
    token_hash,
)
from shared import money
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders


@dataclass(frozen=True)
class NewBill:
    """What a seller writes on a bill."""

    chat: str
    handle: str
    customer_name: str
    lines: list[BillLine]
    shipping_fee: Decimal
    discount: Decimal
    note: str | None
    currency: str


@dataclass(frozen=True)
class CustomerDetails:
    """What the customer enters or confirms on the bill's page."""

    name: str
    phone: str
    email: str | None
    line1: str
    line2: str | None
    city: str
    state: str | None
    postal_code: str
    country: str
    payment_method: PaymentMethod
    language: str = "en"  # the page's language as they confirmed: their messages' language


class Bills(UseCases["ChannelOrders"]):
    """Bills sent as links beside a chat, and the orders they become."""

    app: ChannelOrders

    @use_case
    def create(
        self,
        new: NewBill,
        valid_for: timedelta,
        created_by: str,
        token: str | None = None,
        reserve_in: str | None = None,
    ) -> tuple[Bill, str]:
        """A new bill and its link's token (the token is never stored, only its hash).

        `token` is given for a request that can be retried (derived from its Idempotency-Key):
        the same token again answers the bill made with it, if it is the same bill (else
        IdempotencyKeyReusedError), and records nothing. `reserve_in` (a country) places the
        bill's order at once, in the same transaction, so its stock is reserved while the
        customer decides: unpaid and with no address yet, it waits for them (see `confirm`).
        """
        token = token or secrets.token_urlsafe(32)
        with self.app.unit_of_work() as work:
            made = work.find(bill_id_for(token_hash(token)), Bill)
        if made is not None:
            if not _same(made, new):
                raise IdempotencyKeyReusedError("the Idempotency-Key was used for another bill")
            return made, token
        expires_at = utc_stamp(datetime.now(UTC) + valid_for)
        for line in new.lines:
            _check_fits(Decimal(line["unit_price"]), new.currency, "unit price")
        _check_fits(new.shipping_fee, new.currency, "shipping fee")
        _check_fits(new.discount, new.currency, "discount")
        bill = Bill.make(
            token_hash(token),
            chat=new.chat,
            handle=new.handle,
            customer_name=new.customer_name,
            lines=new.lines,
            shipping_fee=new.shipping_fee,
            discount=new.discount,
            note=new.note,
            currency=new.currency,
            expires_at=expires_at,
            created_by=created_by,
        )
        with self.app.unit_of_work() as work:
            work.add(bill)
            if reserve_in is not None:
                reserving = _reserving_order(bill, reserve_in)
                self.app.intake.take_in_one(
                    Translation(BILL_CHANNEL, str(bill.id), order=reserving), new=True, uow=work
                )
        return bill, token

    def get(self, bill_id: UUID) -> Bill:
        """The bill; BillNotFoundError when there is none."""
        with self.app.unit_of_work() as work:
            bill = work.find(bill_id, Bill)
        if bill is None:
            raise BillNotFoundError(f"no bill {bill_id}")
        return bill

    def by_token(self, token: str) -> Bill:
        """The bill a link opens: BillNotFoundError for a wrong token and an expired bill (the
        answer is the same, so a link tells nothing of a bill it does not open)."""
        if not 20 <= len(token) <= 100:
            raise BillNotFoundError("no such bill")
        with self.app.unit_of_work() as work:
            bill = work.find(bill_id_for(token_hash(token)), Bill)
        if bill is None or not bill.open_at(utc_stamp()):
            raise BillNotFoundError("no such bill")
        return bill

    @use_case
    def confirm(
        self, bill_id: UUID, details: CustomerDetails, uow: UnitOfWork | None = None
    ) -> Bill:
        """The customer confirmed: the bill records it and its order is taken in, at once and in
        one transaction, with the payment state the chosen method gives it. An order placed when
        the bill was made (its stock reserved) is not placed again: it is told the customer's
        address, as a ship-to change, and the payment state, in the same transaction."""
        with self.app.unit_of_work(uow) as work:
            bill = _bill(work, bill_id)
            order = _confirmed_order(bill, details)
            order_id = order_id_for(BILL_CHANNEL, str(bill.id))
            confirmation: Confirmation = {
                "name": details.name,
                "phone": details.phone,
                "email": details.email,
                "address": order["shipping_address"],
                "payment_method": details.payment_method.value,
                "confirmed_at": utc_stamp(),
            }
            bill.confirm(confirmation, order_id)
            placed = work.find(order_id, ChannelOrder)
            if placed is None:
                self.app.intake.take_in_one(
                    Translation(BILL_CHANNEL, str(bill.id), order=order), new=True, uow=work
                )
                placed = work.get(order_id, ChannelOrder)
            else:
                _complete_reserved(bill, placed, order)
            self.app.chat.tell_customer(placed, CustomerStatus.CONFIRMED, "bill", work)
            return bill

    @use_case
    def start_checkout(self, bill_id: UUID, session_id: str) -> None:
        """A hosted card checkout was opened for the bill."""
        with self.app.unit_of_work() as work:
            _bill(work, bill_id).start_checkout(session_id)

    @use_case
    def upload_slip(self, bill_id: UUID, slip: Slip) -> None:
        """The customer uploaded a payment slip (the file is stored by the caller)."""
        with self.app.unit_of_work() as work:
            _bill(work, bill_id).upload_slip(slip)

    def tracking_status(self, bill: Bill) -> str | None:
        """The carrier's latest word on the bill's parcels (in transit, out for delivery,
        delivered, exception), as its order keeps it; None before the first."""
        if bill.order_id is None:
            return None
        with self.app.unit_of_work() as work:
            order = work.find(bill.order_id, ChannelOrder)
        return order.tracking_status if order is not None else None

    def awaiting(self, bill_id: UUID, method: PaymentMethod) -> Bill:
        """The bill, when it is confirmed, unpaid and to be paid this way (else an error)."""
        bill = self.get(bill_id)
        bill.awaiting(method)
        return bill

    def awaiting_slip(self, bill_id: UUID) -> None:
        """Refuse (BillClosedError) unless the bill awaits a transfer or PromptPay payment."""
        bill = self.get(bill_id)
        if bill.payment_method == PaymentMethod.PROMPTPAY:
            bill.awaiting(PaymentMethod.PROMPTPAY)
        else:
            bill.awaiting(PaymentMethod.TRANSFER)

    @use_case
    def pay(
        self,
        bill_id: UUID,
        method: str,
        reference: str,
        amount: Decimal,
        paid_by: str,
        uow: UnitOfWork | None = None,
    ) -> bool:
        """The bill's total was paid: the bill is paid and its order's payment moves on to paid
        (ChannelPaymentChanged: the order service releases the held order to the warehouse).
        The same payment again changes nothing (False)."""
        with self.app.unit_of_work(uow) as work:
            bill = _bill(work, bill_id)
            if not bill.pay(method, reference, amount, paid_by):
                return False
            if bill.order_id is not None:
                order = work.get(bill.order_id, ChannelOrder)
                order.change_payment("paid", reference)
                self.app.chat.tell_customer(order, CustomerStatus.PAID, "bill", work)
            return True

    @use_case
    def expire(self, bill_id: UUID, uow: UnitOfWork | None = None) -> bool:
        """An unpaid bill past its time closes; its order, if there is one (the customer
        confirmed, or it was placed with the bill to reserve its stock), is cancelled as a
        channel cancel (the order service cancels it and its stock goes back)."""
        with self.app.unit_of_work(uow) as work:
            bill = _bill(work, bill_id)
            now = utc_stamp()
            if not bill.due(now) or not bill.expire("not paid in time"):
                return False
            order = work.find(order_id_for(BILL_CHANNEL, str(bill.id)), ChannelOrder)
            if order is not None:
                order.cancel_at_channel("bill expired unpaid", f"bill-expired:{bill.id}", now)
                # Cancelled here first, the OMS's cancel that follows is no news to tell.
                self.app.chat.tell_customer(order, CustomerStatus.CANCELLED, "cancel", work)
            return True

    def follow_shipment(self, order: ChannelOrder, shipment: BillShipment, uow: UnitOfWork) -> None:
        """A shipment of a bill's order left: the bill is shipped (joins the consumer's unit)."""
        bill = _bill_of(order, uow)
        if bill is not None:
            bill.ship(shipment)

    def follow_cancel(self, order: ChannelOrder, reason: str, uow: UnitOfWork) -> None:
        """A bill's order was cancelled: the bill expires (unpaid) or is cancelled (paid)."""
        bill = _bill_of(order, uow)
        if bill is not None:
            bill.order_cancelled(reason)


def _same(bill: Bill, new: NewBill) -> bool:
    """Whether a bill is the one this request describes (a retry of its request)."""
    return (bill.chat, bill.handle, bill.customer_name, bill.lines, bill.currency, bill.note) == (
        new.chat,
        new.handle,
        new.customer_name,
        new.lines,
        new.currency,
        new.note,
    ) and (Decimal(bill.shipping_fee), Decimal(bill.discount)) == (new.shipping_fee, new.discount)


def _bill(work: UnitOfWork, bill_id: UUID) -> Bill:
    bill = work.find(bill_id, Bill)
    if bill is None:
        raise BillNotFoundError(f"no bill {bill_id}")
    return bill


def _bill_of(order: ChannelOrder, uow: UnitOfWork) -> Bill | None:
    """The bill an order was placed from (its external id is the bill's id), if any."""
    if order.channel != BILL_CHANNEL:
        return None
    try:
        bill_id = UUID(order.external_id)
    except ValueError:
        return None
    return uow.find(bill_id, Bill)


def _check_fits(amount: Decimal, currency: str, what: str) -> None:
    if not money.fits(amount, currency):
        raise InvalidBillError(f"{what} {amount} has more places than {currency} has")


def _confirmed_order(bill: Bill, details: CustomerDetails) -> Any:
    """The bill as the customer confirmed it: their name, address and way to pay."""
    address: dict[str, Any] = {
        "name": details.name,
        "line1": details.line1,
        "line2": details.line2,
        "city": details.city,
        "postal_code": details.postal_code,
        "country": details.country,
        "phone": details.phone,
        "state": details.state,
    }
    customer = {"name": details.name, "email": details.email, "phone": details.phone}
    payment_state = PAYMENT_STATE_ON_CONFIRM[details.payment_method]
    order = _canonical_order(bill, customer, address, payment_state)
    order["refs"] = _customer_refs(bill, details)
    return order


def _reserving_order(bill: Bill, country: str) -> Any:
    """The bill as the order placed to reserve its stock before the customer confirms: unpaid
    (so the payment policy keeps it from the warehouse) and to an address that says it is to
    come, in the merchant's country (inventory routes the reservation by it)."""
    address: dict[str, Any] = {
        "name": bill.customer_name,
        "line1": f"Address to come: the customer confirms bill {bill.number}",
        "city": "-",
        "postal_code": "-",
        "country": country,
    }
    customer = {"name": bill.customer_name, "email": None, "phone": None}
    order = _canonical_order(bill, customer, address, "pending")
    order["refs"] = {CHAT_KIND_REF: bill.chat, CHAT_HANDLE_REF: bill.handle}
    return order


def _complete_reserved(bill: Bill, order: ChannelOrder, confirmed: Any) -> None:
    """The order placed with the bill learns what the customer confirmed: who reaches them, the
    address (a ship-to change, before the payment that may let it ship: both go out in this
    order, one transaction) and the payment state (cash on delivery ships from here)."""
    if order.status == ChannelOrderStatus.CANCELLED:  # its news is on its way to the bill
        raise BillClosedError(f"the order of bill {bill.number} was cancelled")
    reference = f"bill-confirmed:{bill.id}"
    order.update_refs(confirmed["refs"])
    order.change_ship_to_at_channel(confirmed["shipping_address"], reference)
    order.change_payment(confirmed["payment_state"], reference)


def _canonical_order(
    bill: Bill,
    customer: dict[str, Any],
    address: dict[str, Any],
    payment_state: str,
) -> Any:
    """The bill as the canonical order, checked by the same model as every channel's order:
    the discount spread over the lines (largest remainder), the shipping fee one shipping line."""
    weights = [Decimal(line["unit_price"]) * line["quantity"] for line in bill.lines]
    shares = money.allocate(Decimal(bill.discount), weights, bill.currency)
    # Chats share no e-mail address: a recognisable placeholder, as Shopee's buyers get.
    customer = {**customer, "email": customer["email"] or f"{bill.number.lower()}@{bill.chat}.chat"}
    body: dict[str, Any] = {
        "channel": BILL_CHANNEL,
        "external_id": str(bill.id),
        "customer": customer,
        "shipping_address": address,
        "currency": bill.currency,
        "lines": [
            {
                "sku": line["sku"],
                "quantity": line["quantity"],
                "unit_price": line["unit_price"],
                "title": line.get("title"),
                "discount": format(share, "f"),
                # Said, not left to be worked out: refunds are computed from each line's paid.
                "paid": format(weight - share, "f"),
            }
            for line, share, weight in zip(bill.lines, shares, weights, strict=True)
        ],
        "payment_state": payment_state,
        "channel_order_number": bill.number,
        "note": bill.note,
        "totals": {"paid": format(bill.total, "f")},
    }
    if Decimal(bill.shipping_fee) > 0:
        body["shipping_lines"] = [{"title": "Shipping", "price": bill.shipping_fee}]
    try:
        canonical = CanonicalOrderModel.model_validate(body).canonical()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise InvalidBillError(problems) from None
    return canonical


def _customer_refs(bill: Bill, details: CustomerDetails) -> dict[str, str]:
    """Who the bill's customer is in its chat, for the messages its order's news brings
    (application/chat.py, `Chat.reach_of`); an e-mail only when they gave one."""
    refs = {
        CHAT_KIND_REF: bill.chat,
        CHAT_HANDLE_REF: bill.handle,
        CHAT_LANGUAGE_REF: details.language,
    }
    if details.email:
        refs[CHAT_EMAIL_REF] = details.email
    return refs
