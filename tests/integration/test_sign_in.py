"""People sign in with a name and password for a session token, and sign out, over real HTTP
on PostgreSQL and the broker; passwords stay out of the event log and the logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from typer.testing import CliRunner

from services.channel_gateway.bootstrap import build as build_gateway
from services.channel_gateway.domain import ScryptParameters
from services.channel_gateway.settings import Settings as GatewaySettings
from services.channel_gateway.views import ChannelOrderViews, PasswordStore
from shared.cli.main import create_app
from shared.runtime.wiring import open_views
from tests.kit import CLI_ENV, RunningService, bearer, eventually

pytestmark = pytest.mark.integration

SOMCHAI = "somchai@example.co.th"
# Thai, with an ASCII stretch: found in stored bytes whether JSON escapes the Thai or not.
PASSWORD = "รหัสผ่านลับของสมชาย-horse-battery-7431"
WRONG = "the name or the password is wrong"


@pytest.fixture
def gateway(run_service) -> RunningService:
    """The gateway, running whole on its own database and broker."""
    return run_service(build_gateway, GatewaySettings)


def public(gateway: RunningService, token: str | None = None) -> httpx.Client:
    """A client of the gateway without the admin's token (with this one, if given)."""
    return httpx.Client(base_url=str(gateway.http.base_url), headers=bearer(token), timeout=30)


def person(gateway: RunningService, name: str, role: str = "ops", **extra: str) -> None:
    """Create a user at the gateway (as the test admin)."""
    created = gateway.http.post("/v1/users", json={"name": name, "role": role, **extra})
    assert created.status_code == 201, created.text


def set_password(gateway: RunningService, name: str, password: str = PASSWORD) -> httpx.Response:
    """PUT the user's password as the test admin."""
    return gateway.http.put(f"/v1/users/{name}/password", json={"password": password})


def sign_in(gateway: RunningService, name: str, password: str = PASSWORD) -> httpx.Response:
    """POST /v1/sessions without a bearer token."""
    with public(gateway) as http:
        return http.post("/v1/sessions", json={"name": name, "password": password})


def me(gateway: RunningService, token: str) -> httpx.Response:
    """GET /v1/me with this token."""
    with public(gateway, token) as http:
        return http.get("/v1/me")


def test_a_person_signs_in_with_a_thai_password_and_the_token_works_until_they_sign_out(gateway):
    person(gateway, SOMCHAI)
    assert set_password(gateway, SOMCHAI).status_code == 204

    answer = sign_in(gateway, "SomChai@Example.co.th")  # names are compared without case
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    session = answer.json()
    assert set(session) == {"token", "token_id", "name", "role", "expires_at"}
    assert (session["name"], session["role"]) == (SOMCHAI, "ops")
    assert session["token"].startswith(f"oms_{session['token_id']}_")
    expires_at = datetime.fromisoformat(session["expires_at"])
    in_twelve_hours = datetime.now(UTC) + timedelta(hours=12)
    assert abs(expires_at - in_twelve_hours) < timedelta(minutes=1)

    eventually(lambda: me(gateway, session["token"]).status_code == 200)
    assert me(gateway, session["token"]).json() == {"name": SOMCHAI, "role": "ops", "via": "token"}
    record = gateway.get_json(f"/v1/tokens/{session['token_id']}")
    assert (record["issued_by"], record["label"]) == (SOMCHAI, "console session")

    with public(gateway, session["token"]) as http:
        ended = http.post("/v1/sessions/end")
    assert ended.status_code == 204, ended.text
    eventually(lambda: me(gateway, session["token"]).status_code == 401)
    assert gateway.get_json(f"/v1/tokens/{session['token_id']}")["revoked_by"] == SOMCHAI


def test_a_new_password_ends_every_session_of_the_old_one_but_not_the_api_keys(gateway):
    person(gateway, SOMCHAI)
    set_password(gateway, SOMCHAI)
    sessions = [sign_in(gateway, SOMCHAI).json() for _ in range(2)]  # a laptop and a tablet
    key = gateway.http.post(f"/v1/users/{SOMCHAI}/tokens", json={"label": "scanner"}).json()
    for token in (*(s["token"] for s in sessions), key["token"]):
        eventually(lambda token=token: me(gateway, token).status_code == 200)

    assert set_password(gateway, SOMCHAI, "รหัสใหม่-new-horse-8842").status_code == 204

    for session in sessions:
        eventually(lambda session=session: me(gateway, session["token"]).status_code == 401)
        assert gateway.get_json(f"/v1/tokens/{session['token_id']}")["revoked_at"] is not None
    assert me(gateway, key["token"]).status_code == 200  # an API key is not a session
    assert sign_in(gateway, SOMCHAI).status_code == 401  # the old password is gone
    assert sign_in(gateway, SOMCHAI, "รหัสใหม่-new-horse-8842").status_code == 201


def test_signing_out_without_a_token_of_ones_own_is_refused(gateway):
    refused = gateway.http.post("/v1/sessions/end")  # the break-glass admin token
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    with public(gateway) as http:
        assert http.post("/v1/sessions/end").status_code == 401


def test_a_wrong_password_an_unknown_name_and_a_disabled_user_get_the_same_401(gateway):
    person(gateway, SOMCHAI)
    person(gateway, "nok@example.co.th")
    assert set_password(gateway, SOMCHAI).status_code == 204
    assert set_password(gateway, "nok@example.co.th").status_code == 204
    assert gateway.http.post("/v1/users/nok@example.co.th/disable").status_code == 200
    stored = gateway.stored()

    answers = [
        sign_in(gateway, SOMCHAI, PASSWORD + "x"),
        sign_in(gateway, "nobody@example.co.th"),
        sign_in(gateway, "nok@example.co.th"),
    ]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert {a.headers["content-type"] for a in answers} == {"application/problem+json"}
    bodies = [a.json() for a in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["detail"] == WRONG
    assert gateway.stored() == stored  # a failed sign-in records nothing


def test_five_failures_for_a_name_are_answered_429_with_retry_after_even_for_the_right_password(
    gateway,
):
    person(gateway, SOMCHAI)
    person(gateway, "nok@example.co.th")
    assert set_password(gateway, SOMCHAI).status_code == 204
    assert set_password(gateway, "nok@example.co.th").status_code == 204

    failures = [sign_in(gateway, SOMCHAI, f"guess number {n}").status_code for n in range(5)]
    assert failures == [401] * 5
    stored = gateway.stored()
    for name in (SOMCHAI, SOMCHAI.upper()):
        held = sign_in(gateway, name)
        assert held.status_code == 429, held.text
        assert held.headers["content-type"] == "application/problem+json"
        assert 0 < int(held.headers["retry-after"]) <= 15 * 60
    assert gateway.stored() == stored
    assert sign_in(gateway, "nok@example.co.th").status_code == 201  # other names are not held


def test_only_an_admin_sets_a_password_and_only_of_a_person_who_is_not_disabled(gateway):
    person(gateway, SOMCHAI)
    person(gateway, "shopee-sync", kind="machine")
    person(gateway, "nok@example.co.th")
    assert gateway.http.post("/v1/users/nok@example.co.th/disable").status_code == 200

    machine = set_password(gateway, "shopee-sync")
    disabled = set_password(gateway, "nok@example.co.th")
    unknown = set_password(gateway, "nobody@example.co.th")
    assert (machine.status_code, disabled.status_code, unknown.status_code) == (409, 409, 404)
    assert sign_in(gateway, "shopee-sync").status_code == 401
    for bad in ("short", " " * 20, "x" * 201):
        refused = set_password(gateway, SOMCHAI, bad)
        assert refused.status_code == 422, refused.text
        assert bad not in refused.text

    assert set_password(gateway, SOMCHAI).status_code == 204
    session = sign_in(gateway, SOMCHAI).json()
    eventually(lambda: me(gateway, session["token"]).status_code == 200)
    with public(gateway, session["token"]) as http:  # ops may not manage users
        refused = http.put(f"/v1/users/{SOMCHAI}/password", json={"password": PASSWORD + "!"})
    assert refused.status_code == 403, refused.text


def test_the_password_is_in_no_stored_event_no_answer_and_no_log(gateway, capfd):
    person(gateway, SOMCHAI)
    answers = [
        set_password(gateway, SOMCHAI),
        sign_in(gateway, SOMCHAI),
        sign_in(gateway, SOMCHAI, PASSWORD[:-1]),
    ]
    session = answers[1].json()
    eventually(lambda: me(gateway, session["token"]).status_code == 200)

    states = b"".join(
        n.state for n in gateway.app.recorder.select_notifications(start=1, limit=10_000)
    )
    assert SOMCHAI.encode() in states  # the search finds what is there
    searched = [
        PASSWORD.encode(),
        json.dumps(PASSWORD).strip('"').encode(),  # as JSON would escape the Thai
        b"horse-battery-7431",
    ]
    assert not any(each in states for each in searched)
    written = " ".join([*(a.text for a in answers), *capfd.readouterr()])
    assert "horse-battery-7431" not in written and PASSWORD not in written


def test_oms_users_password_sets_it_from_stdin_or_asked_twice(gateway):
    url = str(gateway.http.base_url)
    runner, app = CliRunner(env=CLI_ENV), create_app()
    person(gateway, SOMCHAI)

    from_stdin = runner.invoke(
        app, ["users", "password", SOMCHAI, "--password-stdin", "--url", url], input=PASSWORD + "\n"
    )
    assert from_stdin.exit_code == 0, from_stdin.output
    assert PASSWORD not in from_stdin.output
    assert sign_in(gateway, SOMCHAI).status_code == 201

    new = "ความลับใหม่ของสมชาย 2027"
    asked = runner.invoke(
        app, ["users", "password", SOMCHAI, "--url", url], input=f"{new}\n{new}\n"
    )
    assert asked.exit_code == 0, asked.output
    assert new not in asked.output
    assert sign_in(gateway, SOMCHAI, new).status_code == 201
    assert sign_in(gateway, SOMCHAI).status_code == 401

    too_short = runner.invoke(
        app, ["users", "password", SOMCHAI, "--password-stdin", "--url", url], input="short\n"
    )
    assert too_short.exit_code == 1
    assert "a password has at least 12 characters" in " ".join(too_short.output.split())


def test_a_hash_made_with_older_parameters_still_signs_in_and_is_made_again_with_the_new(
    new_database,
):
    views = open_views(ChannelOrderViews, GatewaySettings(database_url=new_database("pw")))
    try:
        old = PasswordStore(views.datastore, ScryptParameters(n=2**10))
        old.create_table()
        old.put(SOMCHAI, PASSWORD)
        raised = PasswordStore(views.datastore, ScryptParameters(n=2**11))
        assert raised.check(SOMCHAI.upper(), PASSWORD)
        with views.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT name, hash FROM user_password")
            [row] = curs.fetchall()
        assert row["name"] == SOMCHAI
        assert row["hash"].startswith("scrypt$n=2048,r=8,p=1$")
        assert raised.check(SOMCHAI, PASSWORD) and not raised.check(SOMCHAI, PASSWORD + "x")
        assert not raised.check("nobody@example.co.th", PASSWORD)
    finally:
        views.datastore.close()
