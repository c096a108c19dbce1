"""Use cases of customer messages: the merchant's templates, and a message per status change
scheduled as a delivery (sent by the delivery worker through the ChatMessages port)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import quote
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.channel_gateway.application.deliveries import utc_stamp
from services.channel_gateway.domain import (
    TEMPLATES_ID,
    ChannelConnection,
    ChannelOrder,
    ChatAddress,
    ChatMessage,
    ChatTemplates,
    CustomerStatus,
    Delivery,
    DeliveryAction,
    OrderSnapshot,
    Shipment,
    Templates,
    check_templates,
    connection_id_for,
    delivery_id_for,
    effective,
    render,
)
from services.channel_gateway.domain.chat import AddressKind
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders

# Where an order keeps who its customer is in a chat: their id there, the chat's kind (a bill's
# order: the chat the bill was made beside; else the order's channel is the chat), the language
# they read, and an e-mail they gave themselves (never a placeholder made up for them).
CHAT_HANDLE_REF = "chat_handle"
CHAT_KIND_REF = "chat_kind"
CHAT_LANGUAGE_REF = "chat_language"
CHAT_EMAIL_REF = "chat_email"


@dataclass(frozen=True)
class Reach:
    """How an order's customer is reached: the address, the connection that sends (its id and
    settings, none when there is none to send through) and the language to write in."""

    address: ChatAddress
    sender: str
    config: dict[str, Any]
    language: str


class ChatMessages(Protocol):
    """Sends one text to one customer; the same key is never sent twice, even on retry.

    Raises TransientChannelError (worth a retry) or PermanentChannelError (never).
    """

    async def send(self, to: ChatAddress, text: str, *, key: str) -> str:
        """Send the text; returns what happened (the chat's message id, or that it was sent
        before under this key)."""
        ...


class Chat(UseCases["ChannelOrders"]):
    """Customer messages: templates the merchant edits, one message per order and status."""

    app: ChannelOrders  # the application composing this group (for the type checker)

    def overrides(self) -> Templates:
        """The merchant's own wording (empty until written)."""
        try:
            found: object = self.app.repository.get(TEMPLATES_ID)
        except AggregateNotFoundError:
            return {}
        return found.overrides if isinstance(found, ChatTemplates) else {}

    def templates(self) -> Templates:
        """Every text in use, by language and status: the merchant's, else the defaults."""
        return effective(self.overrides())

    @use_case
    def edit_templates(self, overrides: Templates) -> Templates:
        """Replace the merchant's wording; InvalidTemplateError for an unknown placeholder,
        status or language (nothing is stored then)."""
        check_templates(overrides)
        with self.app.unit_of_work() as uow:
            templates = uow.find(TEMPLATES_ID, ChatTemplates)
            if templates is None:
                uow.add(ChatTemplates(overrides=overrides))
            else:
                templates.edit(overrides)
        return effective(overrides)

    @use_case
    def notify_customer(
        self,
        order_ref: UUID,
        status: CustomerStatus,
        address: ChatAddress,
        values: dict[str, str],
        *,
        channel: str | None = None,
        language: str = "en",
        ref: str | None = None,
        template: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> Delivery | None:
        """Schedule the message for this order (or bill) and status, once: scheduling it again
        (a redelivered event) finds the first. `channel` is the connection that sends it (by
        default the one named like the address's kind: `line`, `facebook`, ...); `ref` tells
        apart several messages of one status (one per shipment); `values` fill the template's
        placeholders ([order_no], [tracking_code], [tracking_url], [customer_name]);
        `template` names a variant of the status's text (VARIANTS: `shipped_untracked`).

        The text is written from the templates when it is sent, so an edit made meanwhile is
        the one the customer reads; a value the template needs but `values` lacks makes the
        delivery skipped, saying which (fixed by hand, then retried)."""
        action = DeliveryAction.MESSAGE
        delivery_id = delivery_id_for(order_ref, action, f"{status}:{ref or ''}")
        with self.app.unit_of_work(uow) as work:
            if work.find(delivery_id, Delivery) is not None:
                return None
            message: ChatMessage = {
                "status": status.value,
                "to": address.as_dict(),
                "language": language,
                "values": {k: str(v) for k, v in values.items() if v is not None},
            }
            if template:
                message["template"] = template
            delivery = Delivery(
                delivery_id=delivery_id,
                order_id=order_ref,
                channel=channel or _sender_of(address),
                external_id=values.get("order_no") or str(order_ref),
                action=action,
                details=message,
                order=_no_snapshot(),
                due_at=utc_stamp(),
            )
            work.add(delivery)
            return delivery

    def reach_of(self, order: ChannelOrder, uow: UnitOfWork) -> Reach | None:
        """Who this order's customer is, in which chat, through which connection; None when the
        order is not a chat's (nor a bill's).

        A chat's order is sent through its own connection. A bill's order (refs `chat_kind`)
        through the connection named like the bill's chat; without one, by the e-mail the
        customer gave, else to the chat itself, which the delivery worker skips saying why
        (no such channel connected, or no API for that chat): never silently."""
        refs = order.refs or {}
        kind = refs.get(CHAT_KIND_REF)
        connection = _chat_connection(str(kind or order.channel), uow)
        if connection is not None and kind and connection.kind != kind:
            connection = None  # named like the bill's chat, but another chat's connection
        if connection is None and not kind:
            return None
        handle = str(refs.get(CHAT_HANDLE_REF) or "")
        language = refs.get(CHAT_LANGUAGE_REF)
        if connection is not None:
            config = dict(connection.config)
            language = language or config.get("language")
            if handle:
                address = ChatAddress(AddressKind(connection.kind), handle)
                return Reach(address, connection.channel_id, config, str(language or "en"))
        else:
            config = {}
        email = refs.get(CHAT_EMAIL_REF) if kind else (order.customer or {}).get("email")
        if email or not kind:  # the seller took the order without the chat's id: e-mail
            address = ChatAddress(AddressKind.EMAIL, str(email or ""))
            return Reach(address, _sender_of(address), config, str(language or "en"))
        address = ChatAddress(AddressKind(str(kind)), handle)
        return Reach(address, _sender_of(address), config, str(language or "en"))

    def tell_customer(
        self,
        order: ChannelOrder,
        status: CustomerStatus,
        ref: str,
        uow: UnitOfWork,
        shipment: Shipment | None = None,
    ) -> Delivery | None:
        """Schedule the message of this status to the customer of a chat's (or a bill's) order,
        once; nothing when the order has no customer in a chat."""
        reach = self.reach_of(order, uow)
        if reach is None:
            return None
        withheld = shipment is not None and shipment.get("tracking_shared") is False
        tracking = shipment["tracking_number"] if shipment is not None and not withheld else None
        values = chat_values(order, tracking)
        carrier_page = shipment.get("tracking_url") if shipment is not None else None
        pattern = reach.config.get("tracking_url")
        if tracking and carrier_page:  # the carrier's own page for the parcel comes first
            values["tracking_url"] = carrier_page
        elif tracking and pattern:
            values["tracking_url"] = str(pattern).replace(
                "[tracking_code]", quote(tracking, safe="")
            )
        template = None
        if withheld and shipment is not None:
            # No number to give: the message says it shipped, without a link to a parcel that
            # is not the carrier's (docs/architecture.md, "Customer messages").
            values["tracking_withheld"] = (
                f"{shipment['carrier']}'s tracking numbers are the merchant's own,"
                " not declared real"
            )
            template = "shipped_untracked" if status == CustomerStatus.SHIPPED else None
        return self.notify_customer(
            order.id,
            status,
            reach.address,
            values,
            channel=reach.sender,
            language=reach.language,
            ref=ref,
            template=template,
            uow=uow,
        )

    def text_of(self, delivery: Delivery) -> tuple[ChatAddress, str]:
        """The address and text of a message delivery, written from today's templates;
        MissingValuesError when the template needs a value the message lacks."""
        message = cast(ChatMessage, delivery.details)
        template = effective(self.overrides())
        texts = template.get(message["language"], template["en"])
        text = render(texts[message.get("template") or message["status"]], message["values"])
        to = message["to"]
        return ChatAddress(AddressKind(to["kind"]), to["handle"]), text


def chat_values(order: ChannelOrder, tracking_code: str | None) -> dict[str, str]:
    """The placeholder values an order itself knows."""
    values = {
        "order_no": order.channel_order_number or order.external_id,
        "customer_name": str((order.customer or {}).get("name") or ""),
    }
    if tracking_code:
        values["tracking_code"] = tracking_code
    return {k: v for k, v in values.items() if v}


def _chat_connection(channel: str, uow: UnitOfWork) -> ChannelConnection | None:
    """The chat connection named so, or None: there is none, or it is not a chat."""
    connection = uow.find(connection_id_for(channel), ChannelConnection)
    return connection if connection is not None and connection.chat else None


def _sender_of(address: ChatAddress) -> str:
    """The connection that sends by default: the one named like the chat (e-mail: none)."""
    return address.kind.value


def _no_snapshot() -> OrderSnapshot:
    """A message needs nothing of the order beyond its values."""
    return {"customer": {}, "lines": [], "currency": None, "refs": {}, "fully_shipped": False}
