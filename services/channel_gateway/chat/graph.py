"""Facebook Messenger and Instagram messages through the Graph API Send API.

`POST /{version}/{page-id}/messages` with the Page access token, `recipient.id` the customer's
Page-scoped id (Messenger) or Instagram-scoped id (Instagram, through the Page linked to the
professional account), and a `messaging_type`. Outside the 24-hour standard window a message
needs a message tag: Messenger sends with `MESSAGE_TAG` and the connection's tag
(POST_PURCHASE_UPDATE by default: order updates are its allowed use); Instagram supports only
HUMAN_AGENT, so it sends as `UPDATE` unless the merchant sets that tag. The Send API has no
idempotency key: `senders.OnceOnly` keeps the record of what was sent.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.channel_gateway.application import ChatMessages
from services.channel_gateway.channels.http import (
    PermanentChannelError,
    TransientChannelError,
    answered,
    json_of,
)
from services.channel_gateway.domain import ChatAddress

GRAPH_API = "https://graph.facebook.com"
GRAPH_VERSION = "v25.0"
MAX_TEXT = 2000  # characters in one Messenger text message
# Graph error codes that say "later": unknown/service errors, rate limits, temporary send failure.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 613, 1200})


class GraphMessages(ChatMessages):
    """Sends text messages as one Facebook Page (to Messenger or its Instagram account)."""

    def __init__(
        self,
        chat: str,
        config: dict[str, Any],
        token: str,
        http: httpx.AsyncClient,
    ) -> None:
        self.chat = chat  # "facebook" or "instagram", for the messages it returns
        self.token = token
        self.http = http
        base = str(config.get("base_url") or GRAPH_API).rstrip("/")
        version = config.get("graph_version") or GRAPH_VERSION
        self.url = f"{base}/{version}/{config.get('page_id') or 'me'}/messages"
        self.tag: str | None = config.get("message_tag")

    def body(self, to: ChatAddress, text: str) -> dict[str, Any]:
        """The Send API request: recipient, messaging type (and tag), the text."""
        body: dict[str, Any] = {
            "recipient": {"id": to.handle},
            "messaging_type": "MESSAGE_TAG" if self.tag else "UPDATE",
            "message": {"text": text[:MAX_TEXT]},
        }
        if self.tag:
            body["tag"] = self.tag
        return body

    async def send(self, to: ChatAddress, text: str, *, key: str) -> str:
        """Send one text; Graph's transient errors (rate limits, 1200) are retried, others
        (outside the window without a tag, a blocked user, a bad token) are permanent."""
        response = await answered(
            self.http,
            "POST",
            self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            json=self.body(to, text),
        )
        if response.status_code >= 400:
            raise _graph_error(self.chat, response)
        answer = json_of(response)
        return f"{self.chat} message {answer.get('message_id')} sent to {to.handle}"


def _graph_error(chat: str, response: httpx.Response) -> Exception:
    """Graph's {"error": {"message", "code", "error_subcode", "is_transient"}} as our error."""
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    code = error.get("code")
    what = (
        f"{chat} refused the message: HTTP {response.status_code} code {code}"
        f"/{error.get('error_subcode')}: {error.get('message', response.text[:200])}"
    )
    if error.get("is_transient") or code in TRANSIENT_CODES:
        return TransientChannelError(what)
    return PermanentChannelError(what)
