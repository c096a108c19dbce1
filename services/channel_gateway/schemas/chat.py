"""Customer message templates as the API takes and shows them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.channel_gateway.application.canonical import Edge
from services.channel_gateway.domain import PLACEHOLDERS, CustomerStatus, Templates

TemplateText = Annotated[str, Field(min_length=1, max_length=2000)]
Language = Literal["en", "th"]


class ChatTemplatesUpdate(Edge):
    """The merchant's wording, by language and status; a status left out uses the default.

    Placeholders are written in brackets: [order_no], [tracking_code], [tracking_url],
    [customer_name]; any other bracketed word is refused (422).
    """

    templates: dict[Language, dict[CustomerStatus, TemplateText]]

    def overrides(self) -> Templates:
        """Plain texts by language and status."""
        return {
            language: {status.value: text for status, text in texts.items()}
            for language, texts in self.templates.items()
        }


class ChatTemplatesPublic(BaseModel):
    """The texts customers get, the merchant's own among them, and the placeholders."""

    templates: dict[str, dict[str, str]] = Field(description="Every text in use")
    custom: dict[str, dict[str, str]] = Field(description="The texts the merchant wrote")
    placeholders: list[str] = Field(default_factory=lambda: [f"[{p}]" for p in PLACEHOLDERS])
