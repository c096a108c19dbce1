"""The console's sessions and pages without the APIs: sealed cookies, sign-in, CSRF, headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from services.console.bootstrap import build
from services.console.sessions import COOKIE, SessionBox, csrf_matches, new_session
from services.console.settings import Settings

KEY = Fernet.generate_key().decode()
LATER = (datetime.now(UTC) + timedelta(hours=1)).isoformat()


def console() -> TestClient:
    """The console, its APIs nowhere (nothing here reaches them)."""
    settings = Settings(session_key=KEY, gateway_url="http://127.0.0.1:9")
    return TestClient(build(settings), follow_redirects=False)


def test_a_sealed_session_opens_only_with_its_key_and_until_its_token_expires():
    box = SessionBox(KEY)
    session = new_session("สมชาย@example.co.th", "ops", "oms_x", "t1", LATER)
    sealed = box.seal(session)
    assert "oms_x" not in sealed and "สมชาย" not in sealed
    assert box.open(sealed) == session
    assert SessionBox(Fernet.generate_key().decode()).open(sealed) is None
    assert box.open(sealed[:-4] + "AAAA") is None
    assert box.open("") is None and box.open(None) is None
    past = new_session(
        "a", "ops", "t", "t1", (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    )
    assert box.open(box.seal(past)) is None
    assert csrf_matches(session, session.csrf) and not csrf_matches(session, "x")
    assert not csrf_matches(session, None)
    assert new_session("a", "ops", "t", "t1", LATER).csrf != session.csrf


def test_a_page_without_a_session_goes_to_sign_in_and_comes_back_after():
    with console() as http:
        answer = http.get("/orders?q=%23100")
        page = http.get("/sign-in?next=/orders")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Forders%3Fq%3D%2523100"
    assert page.status_code == 200 and 'name="password"' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"


def test_a_form_without_its_sessions_csrf_token_is_refused():
    box = SessionBox(KEY)
    session = new_session("a@example.com", "ops", "oms_x", "t1", LATER)
    with console() as http:
        http.cookies.set(COOKIE, box.seal(session))
        forged = http.post("/orders/00000000-0000-0000-0000-000000000001/cancel", data={})
        wrong = http.post(
            "/orders/00000000-0000-0000-0000-000000000001/cancel", data={"csrf_token": "guess"}
        )
    assert forged.status_code == 403 and wrong.status_code == 403


def test_a_sign_in_only_ever_sends_the_browser_to_a_page_of_the_console():
    with console() as http:
        page = http.get("/sign-in?next=https://evil.example/")
        double = http.get("/sign-in?next=//evil.example/")
    assert 'value="/orders"' in page.text and 'value="/orders"' in double.text
