"""LINE Messaging API push messages (POST /v2/bot/message/push), sent once per key.

LINE's own retry key does the once-only: every push carries `X-Line-Retry-Key` (a UUID made
from our key), and LINE answers 409 with `X-Line-Accepted-Request-Id` to a key it accepted
before, so a push whose answer got lost is never shown twice
(developers.line.biz/en/docs/messaging-api/retrying-api-request).
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

import httpx

from services.channel_gateway.application import ChatMessages
from services.channel_gateway.channels.http import PermanentChannelError, answered, json_of
from services.channel_gateway.domain import ChatAddress

LINE_API = "https://api.line.me"
RETRY_KEYS = uuid5(NAMESPACE_URL, "https://oms.example/line-retry-keys")
MAX_TEXT = 5000  # characters in one LINE text message


def retry_key(key: str) -> str:
    """The X-Line-Retry-Key of a message: a hexadecimal UUID, the same for the same key."""
    return str(uuid5(RETRY_KEYS, key))


class LineMessages(ChatMessages):
    """Pushes text messages with one LINE Official Account's channel access token."""

    def __init__(self, token: str, http: httpx.AsyncClient, base_url: str | None = None):
        self.token = token
        self.http = http
        self.base_url = (base_url or LINE_API).rstrip("/")

    async def send(self, to: ChatAddress, text: str, *, key: str) -> str:
        """Push one text; 409 (accepted before under this key) counts as sent; 429, 5xx and
        network trouble are transient, other 4xx (a wrong user id, a bad token) permanent."""
        url = f"{self.base_url}/v2/bot/message/push"
        response = await answered(
            self.http,
            "POST",
            url,
            headers={
                "Authorization": f"Bearer {self.token}",
                "X-Line-Retry-Key": retry_key(key),
            },
            json={"to": to.handle, "messages": [{"type": "text", "text": text[:MAX_TEXT]}]},
        )
        if response.status_code == 409:
            accepted = response.headers.get("x-line-accepted-request-id", "?")
            return f"LINE had this message already (request {accepted})"
        if response.status_code >= 400:
            raise PermanentChannelError(
                f"LINE refused the push: HTTP {response.status_code} {_problem(response)}"
            )
        sent = json_of(response).get("sentMessages") or []
        ids = ", ".join(str(m.get("id")) for m in sent)
        return f"LINE message {ids} pushed to {to.handle}"


def _problem(response: httpx.Response) -> str:
    """LINE's error message and details ({"message", "details": [{"message", "property"}]})."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    details = "; ".join(
        f"{d.get('property', '')}: {d.get('message', '')}" for d in body.get("details") or []
    )
    return f"{body.get('message', '')}{f' ({details})' if details else ''}"[:500]
