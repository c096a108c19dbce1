"""Customer messages: the templates of each status, read and replaced by the merchant."""

from __future__ import annotations

from fastapi import APIRouter

from services.channel_gateway.api.deps import AppDep
from services.channel_gateway.schemas.chat import ChatTemplatesPublic, ChatTemplatesUpdate

router = APIRouter(prefix="/chat", tags=["chat"])


@router.get("/templates", response_model=ChatTemplatesPublic)
def get_templates(app: AppDep) -> ChatTemplatesPublic:
    """The text of each status per language (English, Thai), and which ones the merchant wrote."""
    return ChatTemplatesPublic(templates=app.chat.templates(), custom=app.chat.overrides())


@router.put("/templates", response_model=ChatTemplatesPublic)
def put_templates(update: ChatTemplatesUpdate, app: AppDep) -> ChatTemplatesPublic:
    """Replace the merchant's wording (statuses left out use the defaults); an unknown
    placeholder is refused with 422 and nothing is stored."""
    overrides = update.overrides()
    return ChatTemplatesPublic(templates=app.chat.edit_templates(overrides), custom=overrides)
