"""A fake Shopee Open Platform v2: signed calls only; order detail, ship, cancel, returns.

Tokens as Shopee keeps them: an access token expires (`access_lifetime`, 4 h by default, seconds
in tests) and is then answered with HTTP 403 `invalid_acceess_token`; `access_token/get` takes a
refresh token (30 days) and answers a new access token and a NEW refresh token; the old refresh
token is refused once the new pair is used.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tests.fakes.server import FakeChannel

PARTNER_ID, SHOP_ID = 2001234, 880011
PARTNER_KEY = "shpk5a76537146704b44656a4a6f4f685271464b596b71557353544a71436465"
ACCESS_TOKEN = "4f6b5a2d6e4c3b2a"
REFRESH_TOKEN = "52656672657368546f6b656e30303031"


@dataclass
class FakeShopee(FakeChannel):
    """Orders by order_sn with their status, shipments, cancels and return requests."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    shipped: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)
    access_lifetime: float = 4 * 3600.0
    refresh_lifetime: float = 30 * 86400.0
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires (time())
    refresh_tokens: dict[str, float] = field(default_factory=dict)
    # a new token -> the refresh token it replaced, until the new pair is first used
    replaces: dict[str, str] = field(default_factory=dict)
    refreshes: list[str] = field(default_factory=list)  # refresh tokens presented, in order

    def __post_init__(self) -> None:
        super().__post_init__()
        now = time.time()
        self.access_tokens[ACCESS_TOKEN] = now + self.access_lifetime
        self.refresh_tokens[REFRESH_TOKEN] = now + self.refresh_lifetime

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now."""
        for token in self.access_tokens:
            self.access_tokens[token] = 0.0

    def expire_refresh_tokens(self) -> None:
        """Every refresh token issued so far expires now (30 days passed)."""
        for token in self.refresh_tokens:
            self.refresh_tokens[token] = 0.0

    def _use(self, token: str) -> None:
        """A new token was used: the refresh token its pair replaced is refused from now on."""
        old = self.replaces.pop(token, None)
        if old is not None:
            self.refresh_tokens.pop(old, None)
            self.replaces = {k: v for k, v in self.replaces.items() if v != old}

    def add_order(self, order: dict[str, Any]) -> None:
        """An order of the shop."""
        self.orders[order["order_sn"]] = order

    def routes(self) -> None:
        """The v2 endpoints the gateway calls; every call must be signed."""
        app = self.app

        @app.post("/api/v2/auth/access_token/get")
        async def refresh(request: Request) -> JSONResponse:
            q = request.query_params
            base = f"{q.get('partner_id')}{request.url.path}{q.get('timestamp')}"
            expected = hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()
            if q.get("sign") != expected:
                return _error("error_sign", "Wrong sign.", status=403)
            body = await request.json()
            token = str(body.get("refresh_token"))
            self.refreshes.append(token)
            if body.get("shop_id") != SHOP_ID or body.get("partner_id") != PARTNER_ID:
                return _error("error_param", "Wrong shop_id or partner_id.", status=400)
            if self.refresh_tokens.get(token, 0.0) <= time.time():
                return _error("error_auth", "Invalid refresh_token.", status=403)
            self._use(token)
            now = time.time()
            access, new_refresh = uuid.uuid4().hex, uuid.uuid4().hex
            self.access_tokens[access] = now + self.access_lifetime
            self.refresh_tokens[new_refresh] = now + self.refresh_lifetime
            self.replaces[access] = self.replaces[new_refresh] = token
            return JSONResponse(
                {
                    "access_token": access,
                    "refresh_token": new_refresh,
                    "expire_in": int(self.access_lifetime),
                    "partner_id": PARTNER_ID,
                    "shop_id": SHOP_ID,
                    "error": "",
                    "message": "",
                    "request_id": "r1",
                }
            )

        @app.get("/api/v2/order/get_order_detail")
        async def detail(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            wanted = request.query_params["order_sn_list"].split(",")
            found = [self.orders[sn] for sn in wanted if sn in self.orders]
            return _ok({"order_list": found})

        @app.post("/api/v2/logistics/ship_order")
        async def ship(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            body = await request.json()
            order = self.orders[body["order_sn"]]
            if order["order_status"] != "READY_TO_SHIP":
                return _error("logistics.ship_order_only_support_one_type", "already shipped")
            order["order_status"] = "PROCESSED"
            self.shipped.append(body)
            return _ok({})

        @app.post("/api/v2/order/cancel_order")
        async def cancel(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            body = await request.json()
            self.orders[body["order_sn"]]["order_status"] = "CANCELLED"
            self.orders[body["order_sn"]]["cancel_request"] = body
            return _ok({"update_time": 1764400000})

        @app.get("/api/v2/returns/get_return_list")
        async def returns(request: Request) -> JSONResponse:
            denied = self._signed(request)
            return denied or _ok({"more": False, "return": self.returns})

        @app.post("/api/v2/returns/confirm")
        async def confirm(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            body = await request.json()
            for item in self.returns:
                if item["return_sn"] == body["return_sn"]:
                    item["status"] = "ACCEPTED"
            return _ok({"return_sn": body["return_sn"]})

    def _signed(self, request: Request) -> JSONResponse | None:
        q = request.query_params
        base = f"{q.get('partner_id')}{request.url.path}{q.get('timestamp')}"
        base += f"{q.get('access_token')}{q.get('shop_id')}"
        expected = hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()
        if q.get("sign") != expected:
            return _error("error_sign", "Wrong sign.", status=403)
        token = str(q.get("access_token"))
        if self.access_tokens.get(token, 0.0) <= time.time():
            return _error("invalid_acceess_token", "Invalid access_token.", status=403)
        self._use(token)
        return None


def _ok(response: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"error": "", "message": "", "request_id": "r1", "response": response})


def _error(code: str, message: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, "request_id": "r1"}, status_code=status)
