"""A fake Shopee Open Platform v2: signed calls only; order detail, ship, cancel, returns."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tests.fakes.server import FakeChannel

PARTNER_ID, SHOP_ID = 2001234, 880011
PARTNER_KEY = "shpk5a76537146704b44656a4a6f4f685271464b596b71557353544a71436465"
ACCESS_TOKEN = "4f6b5a2d6e4c3b2a"


@dataclass
class FakeShopee(FakeChannel):
    """Orders by order_sn with their status, shipments, cancels and return requests."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    shipped: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)

    def add_order(self, order: dict[str, Any]) -> None:
        """An order of the shop."""
        self.orders[order["order_sn"]] = order

    def routes(self) -> None:
        """The v2 endpoints the gateway calls; every call must be signed."""
        app = self.app

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

    @staticmethod
    def _signed(request: Request) -> JSONResponse | None:
        q = request.query_params
        base = f"{q.get('partner_id')}{request.url.path}{q.get('timestamp')}"
        base += f"{q.get('access_token')}{q.get('shop_id')}"
        expected = hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()
        if q.get("sign") != expected or q.get("access_token") != ACCESS_TOKEN:
            return _error("error_sign", "Wrong sign.", status=403)
        return None


def _ok(response: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"error": "", "message": "", "request_id": "r1", "response": response})


def _error(code: str, message: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, "request_id": "r1"}, status_code=status)
