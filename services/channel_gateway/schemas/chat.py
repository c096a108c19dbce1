"""Customer message templates as the API takes and shows them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.channel_gateway.application.canonical import Edge
from services.channel_gateway.domain import PLACEHOLDERS, TEMPLATE_KEYS, Templates

TemplateText = Annotated[str, Field(min_length=1, max_length=2000)]
Language = Literal["en", "th"]
# A customer status, or a variant of one (shipped_untracked: the numbers are withheld).
TemplateName = Annotated[str, Field(pattern="^(" + "|".join(TEMPLATE_KEYS) + ")$")]


class ChatTemplatesUpdate(Edge):
    """The merchant's wording, by language and status; a status left out uses the default.
    `shipped_untracked` is the shipped text for a shipment whose tracking numbers are withheld.

    Placeholders are written in brackets: [order_no], [tracking_code], [tracking_url],
    [customer_name]; any other bracketed word is refused (422).
    """

    templates: dict[Language, dict[TemplateName, TemplateText]]

    def overrides(self) -> Templates:
        """Plain texts by language and status."""
        return {language: dict(texts) for language, texts in self.templates.items()}


class ChatTemplatesPublic(BaseModel):
    """The texts customers get, the merchant's own among them, and the placeholders."""

    templates: dict[str, dict[str, str]] = Field(description="Every text in use")
    custom: dict[str, dict[str, str]] = Field(description="The texts the merchant wrote")
    placeholders: list[str] = Field(default_factory=lambda: [f"[{p}]" for p in PLACEHOLDERS])
