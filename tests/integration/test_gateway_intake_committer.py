"""The intake committer (group commit) outlives requests that stop waiting for it."""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from services.channel_gateway.application import Translation
from services.channel_gateway.schemas import ChannelOrderCreate
from tests.factories_channel_gateway import canonical_order
from tests.fakes.harness import Gateway
from tests.fakes.payloads import dumps
from tests.fakes.server import LoopbackServer
from tests.kit import eventually

pytestmark = pytest.mark.integration


def order(external_id: str) -> dict[str, Any]:
    return canonical_order(channel="web", external_id=external_id)


def post_and_hang_up(base_url: str, body: dict[str, Any]) -> None:
    """POST an order over a raw connection and close it before the answer comes."""
    address = urlsplit(base_url)
    payload = dumps(body)
    request = (
        f"POST /v1/orders HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    with socket.create_connection((address.hostname, address.port), timeout=5) as conn:
        conn.sendall(request)


def test_intake_requests_that_stop_waiting_mid_commit_leave_the_committer_running(
    new_database: Any,
):
    url = new_database("gw_intake")
    gw = Gateway(url)
    batcher = gw.parts.batcher
    try:
        assert gw.http.post("/v1/orders", json=order("WEB-1")).status_code == 202
        gone = Translation("web", "WEB-2", order=ChannelOrderCreate(**order("WEB-2")).canonical())

        async def give_up_waiting() -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(batcher.take_in(gone), 0.5)

        # The commit is held up (a lock); meanwhile one client hangs up and one caller gives up.
        with psycopg.connect(url) as blocker:
            blocker.execute("LOCK TABLE channelorders_events IN ACCESS EXCLUSIVE MODE")
            post_and_hang_up(gw.server.url, order("WEB-3"))
            asyncio.run(give_up_waiting())
        later = gw.http.post("/v1/orders", json=order("WEB-4"), timeout=10)

        assert later.status_code == 202, later.text
        assert batcher.alive
        # What was handed over before its caller left is stored all the same.
        eventually(lambda: all(gw.app.intake.knows_order("web", x) for x in ("WEB-2", "WEB-3")))
    finally:
        gw.close()


# The thread's death is the point here: pytest need not warn that a thread ended raising.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_committer_that_died_is_started_again_by_the_next_order_and_readiness_says_so(
    new_database: Any, monkeypatch: pytest.MonkeyPatch
):
    gw = Gateway(new_database("gw_intake_dead"))
    ops = LoopbackServer(gw.parts.http_api({})).start()
    try:
        assert gw.http.post("/v1/orders", json=order("WEB-10")).status_code == 202
        take_in = gw.app.intake.take_in

        def die(*args: Any, **kwargs: Any) -> Any:
            monkeypatch.setattr(gw.app.intake, "take_in", take_in)
            raise SystemExit("the committer thread ends")

        monkeypatch.setattr(gw.app.intake, "take_in", die)
        dying = gw.http.post("/v1/orders", json=order("WEB-11"))
        down = httpx.get(f"{ops.url}/readyz")
        later = gw.http.post("/v1/orders", json=order("WEB-12"))
        up = httpx.get(f"{ops.url}/readyz")

        assert dying.status_code == 500  # its caller hears of it, and nobody waits forever
        assert down.status_code == 503 and down.json()["checks"]["intake"] is False
        assert later.status_code == 202, later.text
        assert up.json()["checks"]["intake"] is True
    finally:
        ops.stop()
        gw.close()
