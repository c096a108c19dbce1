"""Access control over real HTTP: tokens issued at the gateway reach every service by the broker;
no token, a bad one or a revoked one is a 401, the wrong role a 403, and nothing is recorded."""

from __future__ import annotations

import importlib
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.channel_gateway.bootstrap import build as build_gateway
from services.channel_gateway.domain import order_id_for
from services.channel_gateway.settings import Settings as GatewaySettings
from services.order_service.bootstrap import build as build_orders
from services.order_service.settings import Settings as OrderSettings
from shared.cli.main import create_app
from tests.factories_channel_gateway import canonical_order
from tests.fakes import payloads as p
from tests.fakes.oidc import AUDIENCE, FakeOidcProvider
from tests.kit import ADMIN_TOKEN, CLI_ENV, RunningService, bearer, eventually, settings_for_tests

pytestmark = pytest.mark.integration
SERVICES = (
    "channel_gateway",
    "order_service",
    "inventory_service",
    "fulfillment_service",
    "returns_service",
)
SHOPIFY_SECRET = "shpss_access_test"


def user_with_token(gateway: RunningService, name: str, role: str, **token: Any) -> str:
    """Create a user at the gateway (as the bootstrap admin) and give them a token."""
    created = gateway.http.post("/v1/users", json={"name": name, "role": role})
    assert created.status_code == 201, created.text
    issued = gateway.http.post(f"/v1/users/{name}/tokens", json={"label": "test", **token})
    assert issued.status_code == 201, issued.text
    return str(issued.json()["token"])


def as_user(service: RunningService, token: str | None) -> httpx.Client:
    """A client of the service carrying this token (or none)."""
    return httpx.Client(base_url=str(service.http.base_url), headers=bearer(token), timeout=30)


def me(service: RunningService, token: str) -> int:
    """The status of GET /v1/me with this token."""
    with as_user(service, token) as http:
        return http.get("/v1/me").status_code


def _timeline_with(orders: RunningService, order_id: Any, event: str) -> list[dict[str, Any]]:
    """The order's timeline once it shows the event (else an empty list)."""
    order = orders.get_json(f"/v1/orders/{order_id}")
    timeline: list[dict[str, Any]] = order["timeline"] if order else []
    return timeline if any(e["event"] == event for e in timeline) else []


@pytest.fixture
def pair(run_service) -> tuple[RunningService, RunningService]:
    """A gateway and an order service on one broker."""
    gateway = run_service(build_gateway, GatewaySettings)
    return gateway, run_service(build_orders, OrderSettings)


def test_a_token_issued_at_the_gateway_opens_the_order_service_for_its_role_only(pair):
    gateway, orders = pair
    alice = user_with_token(gateway, "alice@example.com", "ops")
    viewer = user_with_token(gateway, "ソムチャイ@example.co.th", "viewer")
    packer = user_with_token(gateway, "packing-bench-2", "warehouse")
    eventually(lambda: all(me(orders, t) == 200 for t in (alice, viewer, packer)))

    with as_user(gateway, alice) as http:
        placed = http.post("/v1/orders", json=canonical_order(channel="web", external_id="A-1"))
    assert placed.status_code == 202, placed.text
    order_id = order_id_for("web", "A-1")
    eventually(lambda: orders.get_json(f"/v1/orders/{order_id}"))

    stored = orders.stored()
    reason = {"reason": "customer asked"}
    for token in (viewer, packer):  # reading is fine, changing an order is ops' work
        with as_user(orders, token) as http:
            assert http.get(f"/v1/orders/{order_id}").status_code == 200
            refused = http.post(f"/v1/orders/{order_id}/cancel", json=reason)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "needs the ops role" in refused.json()["detail"]
    assert orders.stored() == stored  # nothing recorded on a refused call

    with as_user(orders, alice) as http:
        cancelled = http.post(f"/v1/orders/{order_id}/cancel", json=reason)
    assert cancelled.status_code in (200, 202), cancelled.text
    timeline = eventually(lambda: _timeline_with(orders, order_id, "Cancelled"))
    assert [e["actor"] for e in timeline if e["event"] == "Cancelled"] == ["alice@example.com"]
    placed_entry = next(e for e in timeline if e["event"] == "Placed")
    assert placed_entry["actor"] == "alice@example.com"  # carried from the gateway's event


def test_no_token_a_made_up_one_and_a_revoked_one_are_refused_with_401(pair):
    gateway, orders = pair
    token = user_with_token(gateway, "bob@example.com", "ops")
    eventually(lambda: me(orders, token) == 200)
    stored = orders.stored()

    made_up = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (None, made_up, "not-a-token", "eyJhbGciOi.eyJzdWIi.c2ln"):
        with as_user(orders, bad) as http:
            answer = http.post("/v1/orders/00000000-0000-0000-0000-000000000000/cancel", json={})
        assert answer.status_code == 401, (bad, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert orders.stored() == stored

    token_id = next(
        t["token_id"] for t in gateway.get_json("/v1/tokens", name="bob@example.com")["data"]
    )
    revoked = gateway.http.post(f"/v1/tokens/{token_id}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_by"] == "bootstrap-admin"
    eventually(lambda: me(orders, token) == 401 and me(gateway, token) == 401)


def test_a_disabled_user_loses_every_token_and_gets_no_new_one(pair):
    gateway, orders = pair
    first = user_with_token(gateway, "carol@example.com", "warehouse")
    second = gateway.http.post("/v1/users/carol@example.com/tokens", json={}).json()["token"]
    eventually(lambda: me(orders, first) == 200 and me(orders, second) == 200)

    disabled = gateway.http.post("/v1/users/carol@example.com/disable")
    assert disabled.status_code == 200, disabled.text
    assert all(t["revoked_at"] for t in disabled.json()["tokens"])
    refused = gateway.http.post("/v1/users/carol@example.com/tokens", json={})
    assert refused.status_code == 409, refused.text
    eventually(lambda: me(orders, first) == 401 and me(orders, second) == 401)


def test_only_admins_manage_users_and_a_user_name_is_taken_once(pair):
    gateway, _ = pair
    ops = user_with_token(gateway, "dave@example.com", "ops")
    eventually(lambda: me(gateway, ops) == 200)
    with as_user(gateway, ops) as http:
        assert http.get("/v1/users").status_code == 403
        assert http.post("/v1/users", json={"name": "eve", "role": "admin"}).status_code == 403
    again = gateway.http.post("/v1/users", json={"name": "DAVE@example.com", "role": "viewer"})
    assert again.status_code == 409, again.text
    for bad in ({"name": "two words", "role": "ops"}, {"name": "frank", "role": "root"}):
        assert gateway.http.post("/v1/users", json=bad).status_code == 422


def test_signed_channel_webhooks_need_no_token(pair):
    gateway, _ = pair
    registered = gateway.http.post(
        "/v1/channels",
        json={
            "channel_id": "shopify-eu",
            "kind": "shopify",
            "shop_domain": "acme-eu.myshopify.com",
            "access_token": "shpat_secret_token_value",
            "webhook_secret": SHOPIFY_SECRET,
            "sku_mapping": p.SHOPIFY_SKUS,
        },
    )
    assert registered.status_code in (200, 201), registered.text
    body = p.dumps(p.shopify_order(5829104799001))
    headers = p.shopify_headers(body, SHOPIFY_SECRET, "evt-access-1")
    with as_user(gateway, None) as http:
        answer = http.post("/v1/webhooks/shopify/shopify-eu", content=body, headers=headers)
        assert http.get("/v1/channels").status_code == 401  # the rest still needs one
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "accepted"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_refuses_a_call_without_a_token_and_documents_bearer(service, new_database):
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    settings = importlib.import_module(f"services.{service}.settings")
    parts = bootstrap.build(
        settings_for_tests(settings.Settings, database_url=new_database(service[:12]))
    )
    try:
        with TestClient(parts.http_api({})) as http:
            refused = http.get("/v1/dlq")
            allowed = http.get("/v1/me", headers=bearer(ADMIN_TOKEN))
            health = http.get("/livez")
            document = http.get("/openapi.json").json()
    finally:
        parts.close()
    assert refused.status_code == 401
    assert allowed.json() == {"name": "bootstrap-admin", "role": "admin", "via": "bootstrap"}
    assert health.status_code == 200
    schemes = document["components"]["securitySchemes"]
    assert [s["scheme"] for s in schemes.values()] == ["bearer"]


def test_a_jwt_of_the_oidc_provider_is_a_caller_with_its_role_and_a_bad_one_says_why(
    run_service,
):
    provider = FakeOidcProvider().start()
    try:
        orders = run_service(
            build_orders, OrderSettings, oidc_issuer=provider.url, oidc_audience=AUDIENCE
        )
        viewer = provider.token(roles=["viewer"], email="nok@example.co.th")
        wrong_audience = provider.token(aud="someone-else")
        with as_user(orders, provider.token()) as http:
            assert http.get("/v1/me").json() == {
                "name": "ada@example.com",
                "role": "ops",
                "via": "oidc",
            }
        with as_user(orders, viewer) as http:
            refused = http.post(f"/v1/orders/{order_id_for('web', 'X')}/cancel", json={})
        with as_user(orders, wrong_audience) as http:
            unknown = http.get("/v1/me")
    finally:
        provider.stop()
    assert refused.status_code == 403
    assert unknown.status_code == 401
    assert "audience" in unknown.json()["detail"]


def test_oms_users_and_tokens_make_a_machine_client_whose_api_key_works_until_revoked(pair):
    gateway, orders = pair
    url = str(gateway.http.base_url)
    runner, app = CliRunner(env=CLI_ENV), create_app()

    assert (
        runner.invoke(
            app, ["users", "create", "shopee-sync", "--role", "ops", "--machine", "--url", url]
        ).exit_code
        == 0
    )
    issued = runner.invoke(
        app, ["tokens", "create", "shopee-sync", "--label", "cron", "--url", url]
    )
    assert issued.exit_code == 0, issued.output
    api_key = issued.output.strip().splitlines()[-1]
    eventually(lambda: me(orders, api_key) == 200)

    listed = runner.invoke(app, ["tokens", "list", "--user", "shopee-sync", "--url", url])
    assert "cron" in listed.output and api_key not in listed.output
    token_id = gateway.get_json("/v1/tokens", name="shopee-sync")["data"][0]["token_id"]
    revoked = runner.invoke(app, ["tokens", "revoke", token_id, "--url", url])
    assert revoked.exit_code == 0, revoked.output
    eventually(lambda: me(orders, api_key) == 401)
    with httpx.Client(base_url=url, headers=bearer(api_key)) as http:
        assert http.get("/v1/users").status_code == 401
    refused = CliRunner(env={"OMS_TOKEN": "oms_nope"}).invoke(app, ["users", "list", "--url", url])
    assert refused.exit_code == 1 and "Unauthorized" in refused.output
