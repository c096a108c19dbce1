"""A fake Shopee Open Platform v2: signed calls only; order list (update_time windows of at most
15 days, page_size, cursor) and detail (at most 50), ship, cancel, buyer cancellation requests
and their answers, returns (paged: page_no, page_size, `more`); shop tokens that expire after
`token_lifetime` seconds and refresh tokens that work once; status pushes of the orders it
`place`s, which it can lose.

Shopee's own logistics as its order-management guide documents them: get_shipping_parameter
(info_needed, pickup address_list with time_slot_list, dropoff branch_list), ship_order with
pickup (address_id + pickup_time_id) or dropoff (branch_id) moving READY_TO_SHIP (or RETRY_SHIP,
a failed pickup arranged again) -> PROCESSED, get_tracking_number (empty for `tracking_delay`
calls after ship_order), create_shipping_document (only for arranged orders: PROCESSED, SHIPPED,
TO_CONFIRM_RECEIVE; else fail_error "logistics.package_can_not_print"; each request counted),
get_shipping_document_result (PROCESSING for `document_polls` polls, then READY) and
download_shipping_document (the PDF itself, application/pdf)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from tests.fakes import payloads as p
from tests.fakes.server import FakeChannel

PARTNER_ID, SHOP_ID = 2001234, 880011
PARTNER_KEY = "shpk5a76537146704b44656a4a6f4f685271464b596b71557353544a71436465"
ACCESS_TOKEN = "4f6b5a2d6e4c3b2a"
REFRESH_TOKEN = "7a6d4c4f5a6b4e4d"
REFRESH = "/api/v2/auth/access_token/get"
WINDOW = 15 * 86_400
# ship_order takes an order READY_TO_SHIP, or RETRY_SHIP after a failed pickup; the tracking
# number and airway bill are there once it is arranged, also after the parcel left.
SHIPPABLE = ("READY_TO_SHIP", "RETRY_SHIP")
ARRANGED = ("PROCESSED", "SHIPPED", "TO_CONFIRM_RECEIVE")
# A minimal one-page PDF, as download_shipping_document sends an airway bill.
AIRWAY_BILL = p.one_page_pdf(283, 425)  # 100 x 150 mm, as Shopee prints it
# get_shipping_parameter's pickup addresses (Shopee's own example is a Thai shop).
PICKUP_ADDRESSES = [
    {
        "address_id": 2826,
        "region": "TH",
        "state": "จังหวัดบึงกาฬ",
        "city": "อำเภอเมืองบึงกาฬ",
        "district": "",
        "town": "",
        "address": "222/58",
        "zipcode": "38000",
        "address_flag": ["default_address", "return_address"],
        "time_slot_list": [
            {"date": 1639558800, "pickup_time_id": "1639558800"},
            {"date": 1639472400, "pickup_time_id": "1639472400"},
        ],
    },
    {
        "address_id": 3019,
        "region": "TH",
        "state": "จังหวัดกระบี่",
        "city": "อำเภอคลองท่อม",
        "district": "",
        "town": "",
        "address": "home 1234",
        "zipcode": "81120",
        "address_flag": ["pickup_address"],
        "time_slot_list": [
            {"date": 1639558800, "pickup_time_id": "1639558800"},
            {"date": 1639472400, "pickup_time_id": "1639472400"},
        ],
    },
]
BRANCHES = [
    {
        "branch_id": 5501,
        "region": "TH",
        "state": "Bangkok",
        "city": "Bang Rak",
        "address": "Silom Road 191",
        "zipcode": "10500",
        "district": "",
        "town": "",
    },
]


@dataclass
class FakeShopee(FakeChannel):
    """Orders by order_sn with their status, shipments, cancels and return requests.

    Access tokens live `token_lifetime` seconds (Shopee: 14400); a refresh answers a new access
    token and a new refresh token and retires the refresh token it was given.
    """

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    shipped: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)
    cancel_answers: list[dict[str, Any]] = field(default_factory=list)  # handle_buyer_cancellation
    token_lifetime: float = 14400.0
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires (epoch s)
    refresh_tokens: set[str] = field(default_factory=set)
    refreshed_with: list[str] = field(default_factory=list)  # refresh tokens spent, in order
    expired_answers: int = 0
    # Stock: (item_id, model_id) -> {location_id or "": stock}; when each was set (monotonic);
    # how many update_stock calls came.
    models: set[tuple[int, int]] = field(default_factory=set)
    stock: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)
    stock_set_at: dict[tuple[int, int], float] = field(default_factory=dict)
    stock_calls: int = 0
    # Logistics: what get_shipping_parameter offers, polls before a document is READY, calls of
    # get_tracking_number before the number is issued, documents made per order_sn.
    pickup_addresses: list[dict[str, Any]] = field(default_factory=lambda: list(PICKUP_ADDRESSES))
    branches: list[dict[str, Any]] = field(default_factory=lambda: list(BRANCHES))
    document_polls: int = 1
    tracking_delay: int = 0
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    document_requests: list[str] = field(default_factory=list)  # order_sn per document made
    downloads: list[dict[str, Any]] = field(default_factory=list)
    return_page_size_max: int = 100
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        super().__post_init__()
        self.authorise(ACCESS_TOKEN, REFRESH_TOKEN)

    def authorise(self, access_token: str, refresh_token: str) -> None:
        """The seller authorised the app (again): these tokens are valid from now."""
        self.access_tokens[access_token] = time.time() + self.token_lifetime
        self.refresh_tokens.add(refresh_token)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far has expired."""
        for token in self.access_tokens:
            self.access_tokens[token] = 0.0

    def revoke_refresh_tokens(self) -> None:
        """The seller cancelled the authorisation: no refresh token works any more."""
        self.refresh_tokens.clear()

    def add_order(self, order: dict[str, Any]) -> None:
        """An order of the shop."""
        self.orders[order["order_sn"]] = order

    def place(self, order: dict[str, Any], lose_push: bool = False) -> str:
        """An order of the shop reaches its status now: listed, and pushed (or the push lost)."""
        now = int(time.time())
        with self.lock:
            self.orders[order["order_sn"]] = {**order, "create_time": now, "update_time": now}
        self._push(order["order_sn"], order["order_status"], lose_push)
        return str(order["order_sn"])

    def set_status(self, order_sn: str, status: str, lose_push: bool = False) -> None:
        """The order moves to a status (the buyer cancels it, say): pushed, or the push lost."""
        with self.lock:
            self.orders[order_sn].update(order_status=status, update_time=int(time.time()))
        self._push(order_sn, status, lose_push)

    def _push(self, order_sn: str, status: str, lose: bool) -> None:
        body = p.dumps(p.shopee_push(SHOP_ID, order_sn, status))
        url = self.webhooks.url if self.webhooks else ""
        self.send_webhook(body, p.shopee_push_headers(url, body, PARTNER_KEY), lose)

    def buyer_requests_cancel(self, order_sn: str, at: int = 1764300900) -> dict[str, Any]:
        """The buyer asks to cancel: the order goes IN_CANCEL; the push Shopee sends about it."""
        order = self.orders[order_sn]
        order["before_cancel_request"] = order["order_status"]
        order["order_status"] = "IN_CANCEL"
        order["update_time"] = at
        return {
            "shop_id": SHOP_ID,
            "code": 3,
            "timestamp": at + 1,
            "data": {"ordersn": order_sn, "status": "IN_CANCEL", "update_time": at},
        }

    def routes(self) -> None:
        """The v2 endpoints the gateway calls; every call must be signed."""
        app = self.app

        @app.post(REFRESH)
        async def refresh(request: Request) -> JSONResponse:
            q = request.query_params
            base = f"{q.get('partner_id')}{request.url.path}{q.get('timestamp')}"
            expected = hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()
            if q.get("sign") != expected:
                return _error("error_sign", "Wrong sign.", status=403)
            body = await request.json()
            if body.get("shop_id") != SHOP_ID or body.get("partner_id") != PARTNER_ID:
                return _error("error_param", "Wrong shop_id or partner_id.", status=400)
            with self.lock:
                used = body.get("refresh_token")
                if used not in self.refresh_tokens:
                    return _error("error_auth", "Invalid refresh_token.", status=403)
                self.refresh_tokens.discard(used)  # rotated: the old one is refused from now
                self.refreshed_with.append(used)
                n = next(self._serial)
                access, new_refresh = f"access-{n:04d}", f"refresh-{n:04d}"
                self.access_tokens[access] = time.time() + self.token_lifetime
                self.refresh_tokens.add(new_refresh)
            return JSONResponse(
                {
                    "access_token": access,
                    "refresh_token": new_refresh,
                    "expire_in": int(self.token_lifetime),
                    "partner_id": PARTNER_ID,
                    "shop_id": SHOP_ID,
                    "error": "",
                    "message": "",
                    "request_id": f"r{n}",
                }
            )

        @app.get("/api/v2/order/get_order_detail")
        async def detail(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            wanted = request.query_params["order_sn_list"].split(",")
            if len(wanted) > 50:
                return _error("error_param", "order_sn_list: at most 50 order_sn")
            found = [self.orders[sn] for sn in wanted if sn in self.orders]
            return _ok({"order_list": found})

        @app.get("/api/v2/order/get_order_list")
        async def order_list(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            with self.lock:
                return self._list(dict(request.query_params))

        @app.post("/api/v2/logistics/ship_order")
        async def ship(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            body = await request.json()
            order = self.orders[body["order_sn"]]
            if order["order_status"] not in SHIPPABLE:
                return _error("logistics.ship_order_only_support_one_type", "already shipped")
            refused = self._ship_refusal(body)
            if refused:
                return _error("logistics.error_param", refused)
            order["order_status"] = "PROCESSED"
            order["tracking_calls"] = 0
            self.shipped.append(body)
            return _ok({})

        @app.get("/api/v2/logistics/get_shipping_parameter")
        async def shipping_parameter(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            order = self.orders.get(request.query_params.get("order_sn", ""))
            if order is None or order["order_status"] not in SHIPPABLE:
                return _error("logistics.order_status_error", "Order status is not READY_TO_SHIP.")
            return _ok(
                {
                    "info_needed": {
                        "dropoff": ["branch_id"],
                        "pickup": ["address_id", "pickup_time_id"],
                    },
                    "dropoff": {"branch_list": self.branches},
                    "pickup": {"address_list": self.pickup_addresses},
                }
            )

        @app.get("/api/v2/logistics/get_tracking_number")
        async def tracking_number(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            order = self.orders.get(request.query_params.get("order_sn", ""))
            if order is None:
                return _error("logistics.order_not_found", "Order not found.")
            if order["order_status"] not in ARRANGED:
                return _ok({"tracking_number": "", "hint": "The order is not arranged yet."})
            order["tracking_calls"] = order.get("tracking_calls", 0) + 1
            if order["tracking_calls"] <= self.tracking_delay:
                return _ok({"tracking_number": "", "hint": "Tracking number is generating."})
            return _ok({"tracking_number": tracking_of(order["order_sn"])})

        @app.post("/api/v2/logistics/create_shipping_document")
        async def create_document(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            results = []
            for entry in (await request.json()).get("order_list") or []:
                sn = entry.get("order_sn")
                order = self.orders.get(sn)
                if order is None or order["order_status"] not in ARRANGED:
                    results.append(
                        {
                            "order_sn": sn,
                            "fail_error": "logistics.package_can_not_print",
                            "fail_message": "Order status does not support awb printing",
                        }
                    )
                    continue
                self.document_requests.append(sn)
                self.documents[sn] = {
                    "type": entry.get("shipping_document_type") or "NORMAL_AIR_WAYBILL",
                    "polls": 0,
                }
                results.append({"order_sn": sn})
            return _ok({"result_list": results})

        @app.post("/api/v2/logistics/get_shipping_document_result")
        async def document_result(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            results = []
            for entry in (await request.json()).get("order_list") or []:
                sn = entry.get("order_sn")
                made = self.documents.get(sn)
                if made is None:
                    results.append(
                        {"order_sn": sn, "fail_error": "logistics.shipping_document_not_found"}
                    )
                    continue
                made["polls"] += 1
                ready = self.document_polls >= 0 and made["polls"] >= self.document_polls
                results.append({"order_sn": sn, "status": "READY" if ready else "PROCESSING"})
            return _ok({"result_list": results})

        @app.post("/api/v2/logistics/download_shipping_document")
        async def download_document(request: Request) -> Response:
            denied = self._signed(request)
            if denied:
                return denied
            body = await request.json()
            [entry] = body.get("order_list") or [{}]
            made = self.documents.get(entry.get("order_sn"))
            if made is None or made["polls"] < max(self.document_polls, 1):
                return _error("logistics.shipping_document_should_print_first", "Not ready.")
            self.downloads.append(body)
            return Response(AIRWAY_BILL, media_type="application/pdf")

        @app.post("/api/v2/product/update_stock")
        async def update_stock(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            body = await request.json()
            with self.lock:
                self.stock_calls += 1
                return self._update_stock(body)

        @app.post("/api/v2/order/cancel_order")
        async def cancel(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            body = await request.json()
            self.orders[body["order_sn"]]["order_status"] = "CANCELLED"
            self.orders[body["order_sn"]]["cancel_request"] = body
            return _ok({"update_time": 1764400000})

        @app.post("/api/v2/order/handle_buyer_cancellation")
        async def answer_cancel(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            body = await request.json()
            order = self.orders[body["order_sn"]]
            if order["order_status"] != "IN_CANCEL" or body.get("operation") not in (
                "ACCEPT",
                "REJECT",
            ):
                return _error("error_param", "The order has no cancellation to handle.")
            self.cancel_answers.append(body)
            # Accepted, Shopee cancels (and refunds the buyer); refused, the order goes back.
            accepted = body["operation"] == "ACCEPT"
            order["order_status"] = "CANCELLED" if accepted else order["before_cancel_request"]
            return _ok({"update_time": 1764401000})

        @app.get("/api/v2/returns/get_return_list")
        async def returns(request: Request) -> JSONResponse:
            denied = self._signed(request)
            if denied:
                return denied
            q = request.query_params
            page_no, size = int(q.get("page_no", 0)), int(q.get("page_size", 10))
            if not 1 <= size <= 100 or page_no < 0:
                return _error("error_param", "page_size must be between 1 and 100")
            size = min(size, self.return_page_size_max)
            page = self.returns[page_no * size : (page_no + 1) * size]
            more = (page_no + 1) * size < len(self.returns)
            return _ok({"more": more, "return": page})

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

    def _ship_refusal(self, body: dict[str, Any]) -> str | None:
        """Why ship_order refuses the body's pickup or dropoff, as Shopee would; None: fine."""
        if "pickup" in body:
            pickup = body["pickup"]
            [address] = [
                a for a in self.pickup_addresses if a["address_id"] == pickup.get("address_id")
            ] or [None]
            if address is None:
                return "pickup.address_id is not one of the shop's addresses"
            slots = {slot["pickup_time_id"] for slot in address["time_slot_list"]}
            if pickup.get("pickup_time_id") not in slots:
                return "pickup.pickup_time_id is not a time slot of the address"
            return None
        if "dropoff" in body:
            branch_ids = {b["branch_id"] for b in self.branches}
            if body["dropoff"].get("branch_id") not in branch_ids:
                return "dropoff.branch_id is not a branch of the channel"
            return None
        if "non_integrated" in body:
            return None
        return "one of pickup, dropoff or non_integrated is required"

    def _list(self, q: dict[str, str]) -> JSONResponse:
        """Orders whose update_time is in [time_from, time_to], by update time; the cursor is
        where the next page starts."""
        field_name = q.get("time_range_field")
        if field_name not in ("create_time", "update_time"):
            return _error("error_param", "time_range_field must be create_time or update_time")
        time_from, time_to = int(q["time_from"]), int(q["time_to"])
        if time_to - time_from > WINDOW or time_to < time_from:
            return _error("error_param", "time_to - time_from must be within 15 days")
        size = int(q.get("page_size", 20))
        if not 1 <= size <= 100:
            return _error("error_param", "page_size must be between 1 and 100")
        start = int(q.get("cursor") or 0)
        matching = sorted(
            (o for o in self.orders.values() if time_from <= o[field_name] <= time_to),
            key=lambda o: (o[field_name], o["order_sn"]),
        )
        page = matching[start : start + size]
        more = start + size < len(matching)
        listed = [{"order_sn": o["order_sn"], "order_status": o["order_status"]} for o in page]
        return _ok(
            {"more": more, "next_cursor": str(start + size) if more else "", "order_list": listed}
        )

    def _update_stock(self, body: dict[str, Any]) -> JSONResponse:
        """v2.product.update_stock: item_id, stock_list of model_id and seller_stock entries
        ({location_id?, stock}); models it does not know are in failure_list."""
        item_id = body.get("item_id")
        stock_list = body.get("stock_list")
        if not isinstance(item_id, int) or not isinstance(stock_list, list) or not stock_list:
            return _error("error_param", "item_id and stock_list are required")
        failures, successes = [], []
        for entry in stock_list:
            key = (item_id, int(entry.get("model_id", 0)))
            seller_stock = entry.get("seller_stock")
            if key not in self.models or not isinstance(seller_stock, list) or not seller_stock:
                failures.append({"model_id": key[1], "failed_reason": "model not found"})
                continue
            self.stock[key] = {str(s.get("location_id", "")): int(s["stock"]) for s in seller_stock}
            self.stock_set_at[key] = time.monotonic()
            successes.append({"model_id": key[1], "seller_stock": seller_stock})
        return _ok({"failure_list": failures, "success_list": successes})

    def _signed(self, request: Request) -> JSONResponse | None:
        q = request.query_params
        base = f"{q.get('partner_id')}{request.url.path}{q.get('timestamp')}"
        base += f"{q.get('access_token')}{q.get('shop_id')}"
        expected = hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()
        if q.get("sign") != expected:
            return _error("error_sign", "Wrong sign.", status=403)
        expires = self.access_tokens.get(q.get("access_token") or "")
        if expires is None or expires <= time.time():
            self.expired_answers += 1
            # Shopee's own spelling of the error code.
            return _error("invalid_acceess_token", "Invalid access_token.", status=403)
        return None


def tracking_of(order_sn: str) -> str:
    """The tracking number Shopee's courier gives an order (SPX Express style)."""
    return f"TH{order_sn[-10:]}X"


def _ok(response: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"error": "", "message": "", "request_id": "r1", "response": response})


def _error(code: str, message: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, "request_id": "r1"}, status_code=status)
