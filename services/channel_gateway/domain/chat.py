"""Messages to customers in their chat: the statuses they hear of, the merchant's templates with
their placeholders, and the ChatTemplates aggregate that keeps the merchant's own wording."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NotRequired, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


class CustomerStatus(StrEnum):
    """What happened to the customer's order (bill), each worth a message."""

    CONFIRMED = "confirmed"  # the customer confirmed the bill: it is an order now
    PAID = "paid"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"  # the carrier could not deliver (a failed attempt, a return)
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


VARIANTS = {"shipped_untracked": CustomerStatus.SHIPPED}
"""Texts a status uses in a case of its own: a shipment whose tracking numbers are withheld
(a rate table's, not declared real) ships with `shipped_untracked`, no tracking to show."""
TEMPLATE_KEYS = (*CustomerStatus, *VARIANTS)


class AddressKind(StrEnum):
    """How the customer is reached: a chat, or e-mail for bills without one."""

    LINE = "line"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    EMAIL = "email"
    OTHER = "other"  # a chat we have no API for: nothing can be sent (the delivery says so)


@dataclass(frozen=True)
class ChatAddress:
    """Where a message goes: the kind of chat and the customer's id in it (LINE user id,
    Page-scoped id, Instagram-scoped id, or an e-mail address)."""

    kind: AddressKind
    handle: str

    def as_dict(self) -> dict[str, str]:
        """The address as stored in a delivery."""
        return {"kind": self.kind.value, "handle": self.handle}


class ChatMessage(TypedDict):
    """A message delivery's news: to whom, which status, in which language, with which values."""

    status: str
    to: dict[str, str]  # ChatAddress.as_dict
    language: str
    values: dict[str, str]
    template: NotRequired[str]  # a variant of the status's text (VARIANTS); absent: the status


PLACEHOLDERS = ("order_no", "tracking_code", "tracking_url", "customer_name")
"""What a template may contain, each written in brackets: [order_no]."""
LANGUAGES = ("en", "th")
# A bracketed word of ASCII letters, digits and underscores is a placeholder; anything else in
# brackets ("[ด่วน]", "[1/2]") is the merchant's text.
_PLACEHOLDER = re.compile(r"\[([A-Za-z_][A-Za-z0-9_]*)\]")
MAX_TEMPLATE = 2000  # characters; Messenger's text limit is 2,000, LINE's 5,000

DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "confirmed": "Hi [customer_name], thank you! We have your order [order_no].",
        "paid": "Hi [customer_name], we received your payment for order [order_no]. "
        "We will let you know when it ships.",
        "shipped": "Good news, [customer_name]: order [order_no] has shipped. "
        "Tracking number [tracking_code]: [tracking_url]",
        "out_for_delivery": "Order [order_no] is out for delivery today. Track it: [tracking_url]",
        "delivered": "Order [order_no] was delivered. Thank you for shopping with us!",
        "exception": "The carrier could not deliver order [order_no] as planned. "
        "We are on it and will message you; you can also reply here.",
        "shipped_untracked": "Good news: order [order_no] has shipped. "
        "It should reach you in a few days.",
        "cancelled": "Order [order_no] was cancelled. Please message us if you have questions.",
        "refunded": "We refunded order [order_no]. It may take a few days to reach you.",
    },
    "th": {
        "confirmed": "สวัสดีค่ะ คุณ[customer_name] ขอบคุณค่ะ เราได้รับคำสั่งซื้อ [order_no] แล้ว",
        "paid": "คุณ[customer_name] เราได้รับการชำระเงินสำหรับคำสั่งซื้อ [order_no] แล้วค่ะ "
        "จะแจ้งให้ทราบเมื่อจัดส่งสินค้า",
        "shipped": "คำสั่งซื้อ [order_no] จัดส่งแล้วค่ะ เลขพัสดุ [tracking_code] ติดตามพัสดุได้ที่ [tracking_url]",
        "out_for_delivery": "คำสั่งซื้อ [order_no] กำลังนำส่งวันนี้ค่ะ ติดตามได้ที่ [tracking_url]",
        "delivered": "คำสั่งซื้อ [order_no] จัดส่งถึงแล้วค่ะ ขอบคุณที่อุดหนุนนะคะ",
        "exception": "ขนส่งแจ้งว่ายังนำส่งคำสั่งซื้อ [order_no] ไม่สำเร็จค่ะ "
        "ทางร้านกำลังติดตามและจะแจ้งให้ทราบ หรือทักแชทมาได้เลยค่ะ",
        "shipped_untracked": "คำสั่งซื้อ [order_no] จัดส่งแล้วค่ะ จะถึงมือคุณภายในไม่กี่วันค่ะ",
        "cancelled": "คำสั่งซื้อ [order_no] ถูกยกเลิกแล้วค่ะ หากมีคำถามทักแชทได้เลยค่ะ",
        "refunded": "เราคืนเงินสำหรับคำสั่งซื้อ [order_no] แล้วค่ะ อาจใช้เวลาสองสามวัน",
    },
}
"""Sensible wording until the merchant writes its own (PUT /v1/chat/templates)."""

Templates = dict[str, dict[str, str]]
"""Texts by language, then by customer status."""

TEMPLATES_ID = uuid5(NAMESPACE_URL, "https://oms.example/chat-templates")


class ChatError(Exception):
    """Base of chat message errors."""


class InvalidTemplateError(ChatError):
    """A template names a placeholder we do not know, or a status or language we do not have."""


class MissingValuesError(ChatError):
    """A template needs a value the message does not have (a tracking link not known yet)."""


def placeholders_in(text: str) -> list[str]:
    """The placeholders a text uses, in order of first use."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def check_templates(templates: Templates) -> None:
    """Raise InvalidTemplateError naming every unknown language, status or placeholder."""
    problems = []
    for language, texts in templates.items():
        if language not in LANGUAGES:
            problems.append(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
            continue
        for status, text in texts.items():
            where = f"{language}.{status}"
            if status not in TEMPLATE_KEYS:
                statuses = ", ".join(TEMPLATE_KEYS)
                problems.append(f"{where}: status {status!r} is not one of {statuses}")
                continue
            if not text.strip():
                problems.append(f"{where}: the text is empty")
            if len(text) > MAX_TEMPLATE:
                problems.append(f"{where}: longer than {MAX_TEMPLATE} characters")
            unknown = [p for p in placeholders_in(text) if p not in PLACEHOLDERS]
            if unknown:
                names = ", ".join(f"[{p}]" for p in unknown)
                known = ", ".join(f"[{p}]" for p in PLACEHOLDERS)
                problems.append(f"{where}: unknown placeholder {names} (known: {known})")
    if problems:
        raise InvalidTemplateError("; ".join(problems))


def render(text: str, values: dict[str, str]) -> str:
    """The text with each placeholder replaced by its value; MissingValuesError names those
    the text uses but the message lacks (a message is never sent with a hole in it)."""
    missing = [p for p in placeholders_in(text) if p in PLACEHOLDERS and not values.get(p)]
    if missing:
        raise MissingValuesError(
            "the template needs " + ", ".join(f"[{p}]" for p in missing) + " and has no value"
        )

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in PLACEHOLDERS else match.group(0)

    return _PLACEHOLDER.sub(value, text)


def effective(overrides: Templates) -> Templates:
    """Every language's texts: the merchant's where written, the defaults elsewhere."""
    return {
        language: {**DEFAULT_TEMPLATES[language], **overrides.get(language, {})}
        for language in LANGUAGES
    }


class ChatTemplates(Aggregate):
    """The merchant's own wording of customer messages (defaults fill the rest)."""

    class Started(Aggregate.Created):
        """The merchant's wording was first written."""

        overrides: Templates

    class Edited(Aggregate.Event):
        """The merchant's wording was replaced."""

        overrides: Templates

    @event(Started)
    def __init__(self, overrides: Templates) -> None:
        self.overrides = overrides

    @staticmethod
    def create_id(**_: Any) -> UUID:
        """One set of templates per gateway."""
        return TEMPLATES_ID

    def edit(self, overrides: Templates) -> bool:
        """Replace the merchant's wording (checked first); False when nothing changed."""
        check_templates(overrides)
        if overrides == self.overrides:
            return False
        self._edited(overrides=overrides)
        return True

    @event(Edited)
    def _edited(self, overrides: Templates) -> None:
        self.overrides = overrides

    def text(self, language: str, status: str) -> str:
        """The text for a status in a language (English when the language is not known)."""
        texts = effective(self.overrides)
        return texts.get(language, texts["en"])[status]
