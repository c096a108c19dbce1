"""A fake LINE Messaging API: push messages (POST /v2/bot/message/push), as LINE documents them.

Reproduces: the Bearer channel access token (401 with {"message": ...} otherwise); the body
{to, messages: [{type: "text", text}]} with 1 to 5 messages, a user id `to` of "U" and 32 hex
digits (400 with {"message", "details": [{"message", "property"}]} otherwise); the answer
{"sentMessages": [{"id", "quoteToken"}]}; and the retry key (developers.line.biz/en/docs/
messaging-api/retrying-api-request): `X-Line-Retry-Key` must be a hexadecimal UUID (400), and
a key accepted before is answered 409 with `X-Line-Accepted-Request-Id` and nothing is sent
again. `lose_answers` applies a push and answers 500, as a lost answer looks to the caller.
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tests.fakes.server import FakeChannel

TOKEN = "line-channel-access-token-test"
USER_ID = re.compile(r"^U[0-9a-f]{32}$")


def line_user(n: int) -> str:
    """A LINE user id as the platform gives them: U and 32 hex digits."""
    return f"U{n:032x}"


@dataclass
class FakeLine(FakeChannel):
    """Records every message pushed (`pushed`: to, text), once per retry key."""

    pushed: list[dict[str, Any]] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # retry key -> request id
    ids: Any = field(default_factory=lambda: itertools.count(461230966842064897))

    def texts_to(self, user_id: str) -> list[str]:
        """The texts the user got, in order."""
        with self.lock:
            return [m["text"] for m in self.pushed if m["to"] == user_id]

    def routes(self) -> None:
        @self.app.post("/v2/bot/message/push")
        async def push(request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return JSONResponse(
                    {
                        "message": "Authentication failed. Confirm that the access token in the"
                        " authorization header is valid."
                    },
                    status_code=401,
                )
            retry_key = request.headers.get("x-line-retry-key")
            if retry_key is not None:
                try:
                    uuid.UUID(retry_key)
                except ValueError:
                    return _bad("The retry key is invalid", "X-Line-Retry-Key")
            body = await request.json()
            to, messages = body.get("to", ""), body.get("messages") or []
            if not USER_ID.match(to):
                return _bad("The value for the 'to' property is invalid", "to")
            if not 1 <= len(messages) <= 5:
                return _bad("Size must be between 1 and 5", "messages")
            request_id = uuid.uuid4().hex
            with self.lock:
                if retry_key is not None and retry_key in self.accepted:
                    return JSONResponse(
                        {"message": "The retry key is already accepted", "sentMessages": []},
                        status_code=409,
                        headers={"x-line-accepted-request-id": self.accepted[retry_key]},
                    )
                sent = []
                for message in messages:
                    self.pushed.append({"to": to, "text": message["text"]})
                    sent.append({"id": str(next(self.ids)), "quoteToken": uuid.uuid4().hex})
                if retry_key is not None:
                    self.accepted[retry_key] = request_id
            return JSONResponse({"sentMessages": sent}, headers={"x-line-request-id": request_id})


def _bad(message: str, prop: str) -> JSONResponse:
    return JSONResponse(
        {
            "message": "The request body has 1 error(s)",
            "details": [{"message": message, "property": prop}],
        },
        status_code=400,
    )
