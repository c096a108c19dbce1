"""Serve an ASGI app on a loopback port in a background thread; record and fail on demand."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from shared.runtime.embedded import free_port


class LoopbackServer:
    """Runs an ASGI app with uvicorn on 127.0.0.1 until stopped."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LoopbackServer:
        """Start serving and wait until the port answers."""
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("loopback server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class Faults:
    """What the fake does wrong next: refuse requests, or apply them and lose the answer."""

    fail_next: int = 0
    fail_status: int = 503
    fail_matching: str = ""
    lose_answer_next: int = 0
    lose_matching: bytes = b""
    down_until: float = 0.0
    slow_seconds: float = 0.0
    slow_matching: str = ""


@dataclass
class WebhookTarget:
    """Where a fake channel sends its webhooks, and the secret it signs them with."""

    url: str
    secret: str


@dataclass
class FakeChannel:
    """Base of the fake channels: an app, its recordings and its faults; the webhooks it sends
    (to `webhooks`, when set), and those it "lost" (never sent, as a channel gives up)."""

    app: FastAPI = field(default_factory=FastAPI)
    requests: list[Recorded] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    server: LoopbackServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    webhooks: WebhookTarget | None = None
    lost_webhooks: list[bytes] = field(default_factory=list)

    def send_webhook(self, body: bytes, headers: dict[str, str], lose: bool) -> int | None:
        """POST a webhook to the target (its status), or lose it (None): it is never sent."""
        if lose or self.webhooks is None:
            self.lost_webhooks.append(body)
            return None
        response = httpx.post(self.webhooks.url, content=body, headers=headers, timeout=30)
        return response.status_code

    def __post_init__(self) -> None:
        self.app.middleware("http")(self._record_and_fail)
        self.routes()

    def routes(self) -> None:
        """Subclasses add their API here."""

    @property
    def url(self) -> str:
        """Base URL of the running fake."""
        assert self.server is not None
        return self.server.url

    def start(self) -> FakeChannel:
        """Serve on loopback."""
        self.server = LoopbackServer(self.app).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.stop()

    def down_for(self, seconds: float) -> None:
        """Answer 503 to everything for a while."""
        self.faults.down_until = time.monotonic() + seconds

    def fail(self, times: int, status: int = 503, matching: str = "") -> None:
        """Refuse the next requests (whose path contains `matching`) with this status."""
        self.faults.fail_next, self.faults.fail_status = times, status
        self.faults.fail_matching = matching

    def lose_answers(self, times: int, matching: bytes = b"") -> None:
        """Apply the next writing requests (whose path or body contain `matching`) but answer
        500, as if the response got lost on the way back."""
        self.faults.lose_answer_next, self.faults.lose_matching = times, matching

    def slow_answers(self, seconds: float, matching: str) -> None:
        """Answer requests whose path contains `matching` this much later, having applied them
        at once (a slow network: what a GET answers is as of its arrival)."""
        self.faults.slow_seconds, self.faults.slow_matching = seconds, matching

    def sent(self, method: str | None = None, path_part: str = "") -> list[Recorded]:
        """Requests received (and answered 2xx), filtered."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and path_part in r.path and r.status < 300
        ]

    async def _record_and_fail(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        body = await request.body()
        recorded = Recorded(
            request.method,
            request.url.path,
            dict(request.query_params),
            {k.lower(): v for k, v in request.headers.items()},
            body,
        )
        self.requests.append(recorded)
        faults = self.faults
        if time.monotonic() < faults.down_until:
            recorded.status = 503
            return JSONResponse({"error": "down"}, status_code=503)
        if faults.fail_next > 0 and faults.fail_matching in request.url.path:
            faults.fail_next -= 1
            recorded.status = faults.fail_status
            return JSONResponse({"error": "injected"}, status_code=faults.fail_status)
        response = await call_next(request)
        recorded.status = response.status_code
        if faults.slow_matching and faults.slow_matching in request.url.path:
            await asyncio.sleep(faults.slow_seconds)
        matches = faults.lose_matching in body or faults.lose_matching in request.url.path.encode()
        if faults.lose_answer_next > 0 and request.method != "GET" and matches:
            faults.lose_answer_next -= 1
            recorded.status = 500  # applied, but the caller never hears so
            return JSONResponse({"error": "lost"}, status_code=500)
        return response


def run_coroutine(coro: Any) -> Any:
    """Run a coroutine to the end from synchronous test code."""
    return asyncio.run(coro)
