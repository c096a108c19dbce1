"""A fake Graph API Send API (Messenger and Instagram messages), as Meta documents it.

Reproduces `POST /{version}/{page-id}/messages` with the Page access token (here as the
`Authorization: Bearer` header or the `access_token` parameter; 400 with an OAuthException,
code 190, otherwise); a body {recipient: {id}, messaging_type, message: {text}} where
messaging_type is RESPONSE, UPDATE or MESSAGE_TAG, and MESSAGE_TAG needs a `tag`
(CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE, ACCOUNT_UPDATE or HUMAN_AGENT); recipients it
does not know are answered code 100 subcode 2018001 ("No matching user found"), and a
recipient marked `outside_window` without a tag is refused with code 10 subcode 2018278
("message sent outside of allowed window"); the answer {recipient_id, message_id}. The Send
API has no idempotency key: every accepted request is a message (`messages`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tests.fakes.server import FakeChannel

PAGE_ID = "104729835512345"
PAGE_TOKEN = "EAAGpage-access-token-test"
TAGS = {"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT"}
TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}


@dataclass
class FakeMessenger(FakeChannel):
    """Records every message sent (`messages`: recipient, text, messaging_type, tag)."""

    recipients: set[str] = field(default_factory=set)  # PSIDs and IGSIDs that messaged the Page
    outside_window: set[str] = field(default_factory=set)  # their last message is > 24 h old
    messages: list[dict[str, Any]] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def texts_to(self, recipient: str) -> list[str]:
        """The texts the recipient got, in order."""
        with self.lock:
            return [m["text"] for m in self.messages if m["recipient"] == recipient]

    def routes(self) -> None:
        @self.app.post("/{version}/{page}/messages")
        async def send(version: str, page: str, request: Request) -> JSONResponse:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            token = token or request.query_params.get("access_token", "")
            if token != PAGE_TOKEN or page not in (PAGE_ID, "me"):
                return _error(400, 190, None, "Invalid OAuth access token.", "OAuthException")
            body = await request.json()
            recipient = (body.get("recipient") or {}).get("id")
            kind, tag = body.get("messaging_type"), body.get("tag")
            if kind not in TYPES or (kind == "MESSAGE_TAG") != (tag is not None):
                return _error(400, 100, None, "(#100) Param messaging_type is invalid")
            if tag is not None and tag not in TAGS:
                return _error(400, 100, None, f"(#100) Param tag[{tag}] is not a valid tag")
            if recipient not in self.recipients:
                return _error(400, 100, 2018001, "(#100) No matching user found")
            if recipient in self.outside_window and tag is None:
                return _error(
                    400,
                    10,
                    2018278,
                    "(#10) This message is sent outside of allowed window.",
                )
            with self.lock:
                message_id = f"m_{next(self.ids)}"
                self.messages.append(
                    {
                        "recipient": recipient,
                        "text": body["message"]["text"],
                        "messaging_type": kind,
                        "tag": tag,
                    }
                )
            return JSONResponse({"recipient_id": recipient, "message_id": message_id})


def _error(
    status: int, code: int, subcode: int | None, message: str, kind: str = "OAuthException"
) -> JSONResponse:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)
