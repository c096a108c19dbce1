"""Channel secrets at rest on real PostgreSQL: no plaintext in the table, webhooks still signed
and verified, rows of before encryption sealed at start-up, a key rotation with
`oms secrets rotate`, and a gateway that cannot read a stored secret refusing to start."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet, InvalidToken
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from typer.testing import CliRunner, Result

from services.channel_gateway.views import SecretKeysError, UnreadableSecretsError
from shared.cli.main import create_app
from tests.fakes import payloads as p
from tests.fakes.harness import SECRETS_KEY, Gateway

pytestmark = pytest.mark.integration
NEW_KEY = "P0Dm5x5oYk2f3S3Jq8VZ6V2o0Yb9m2Jt1m8gQdP3k7E="
WEBHOOK_SECRET = "shpss_webhook_secret_of_acme"
ACCESS_TOKEN = "shpat_access_token_of_acme"
PLAINTEXTS = (
    WEBHOOK_SECRET,
    ACCESS_TOKEN,
    "cs_consumer_secret_of_woo",
    "woo_webhook_secret_value",
    "shopee_partner_key_value",
    "shopee_access_token_value",
    "shopee_refresh_token_value",
)
Start = Callable[..., Gateway]


@pytest.fixture
def database(new_database: Any) -> str:
    url: str = new_database("gw_secrets")
    return url


@pytest.fixture
def start(database: str) -> Iterator[Start]:
    """Start a gateway on the test's database with these keys (again, for a restart)."""
    started: list[Gateway] = []

    def start_gateway(keys: str = SECRETS_KEY) -> Gateway:
        gw = Gateway(database, secrets_keys=keys)
        started.append(gw)
        return gw

    yield start_gateway
    for gw in started:
        with contextlib.suppress(Exception):  # a restarted one was closed by its test
            gw.close()


def connect_shops(gw: Gateway, webhook_secret: str = WEBHOOK_SECRET) -> None:
    """A Shopify, a WooCommerce and a Shopee shop, each with its credentials."""
    gw.register(
        {
            "channel_id": "shopify-eu",
            "kind": "shopify",
            "shop_domain": "acme-eu.myshopify.com",
            "access_token": ACCESS_TOKEN,
            "webhook_secret": webhook_secret,
            "sku_mapping": p.SHOPIFY_SKUS,
        }
    )
    gw.register(
        {
            "channel_id": "woo-de",
            "kind": "woocommerce",
            "base_url": "https://shop.example.de",
            "consumer_key": "ck_consumer_key",
            "consumer_secret": "cs_consumer_secret_of_woo",
            "webhook_secret": "woo_webhook_secret_value",
            "sku_mapping": p.WOO_SKUS,
        }
    )
    gw.register(
        {
            "channel_id": "shopee-sg",
            "kind": "shopee",
            "partner_id": 2001234,
            "shop_id": 88001234,
            "base_url": "https://partner.test-stable.shopeemobile.com",
            "partner_key": "shopee_partner_key_value",
            "access_token": "shopee_access_token_value",
            "refresh_token": "shopee_refresh_token_value",
            "sku_mapping": p.SHOPEE_SKUS,
        }
    )


def raw_rows(database: str) -> dict[str, dict[str, Any]]:
    """The channel_secret rows as PostgreSQL holds them, by channel."""
    with psycopg.connect(database, row_factory=dict_row) as conn:
        rows = conn.execute("SELECT channel_id, secrets, previous FROM channel_secret").fetchall()
    return {row["channel_id"]: row for row in rows}


def raw_text(database: str) -> str:
    """Every byte of the table, as text."""
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT channel_secret::text FROM channel_secret").fetchall()
    return "\n".join(row[0] for row in rows)


def tokens(database: str) -> list[str]:
    """The Fernet token of every stored value, current and previous, of every channel."""
    return [
        value["fernet"]
        for row in raw_rows(database).values()
        for column in ("secrets", "previous")
        for value in row[column].values()
    ]


def post_order(gw: Gateway, secret: str, event_id: str) -> httpx.Response:
    """Shopify pushes an order, signed with `secret`."""
    body = p.dumps(p.shopify_order(5829104700000 + len(event_id)))
    headers = p.shopify_headers(body, secret, event_id)
    return gw.http.post("/v1/webhooks/shopify/shopify-eu", content=body, headers=headers)


def rotate(gw: Gateway, *options: str) -> Result:
    """`oms secrets rotate` against this gateway."""
    return CliRunner().invoke(
        create_app(),
        ["secrets", "rotate", "--url", gw.server.url, *options],
        env={"COLUMNS": "200"},
    )


def test_the_table_holds_no_plaintext_secret_and_webhooks_are_still_verified(
    start: Start, database: str
) -> None:
    gw = start()

    connect_shops(gw)

    stored = raw_text(database)
    assert [secret for secret in PLAINTEXTS if secret in stored] == []
    assert post_order(gw, WEBHOOK_SECRET, "evt-1").status_code == 200
    assert post_order(gw, "shpss_forged", "evt-2").status_code == 401


def test_a_replaced_webhook_secret_is_sealed_too_and_still_accepted_in_its_grace_period(
    start: Start, database: str
) -> None:
    gw = start()
    connect_shops(gw, webhook_secret="shpss_the_old_one")

    connect_shops(gw, webhook_secret=WEBHOOK_SECRET)

    assert raw_rows(database)["shopify-eu"]["previous"].keys() == {"webhook_secret"}
    assert "shpss_the_old_one" not in raw_text(database)
    assert post_order(gw, "shpss_the_old_one", "evt-old").status_code == 200
    assert post_order(gw, WEBHOOK_SECRET, "evt-new").status_code == 200


def test_rows_written_before_encryption_are_sealed_when_the_gateway_starts(
    start: Start, database: str
) -> None:
    connect_shops(start())
    with psycopg.connect(database) as conn:  # as the gateway stored them before encryption
        conn.execute(
            "UPDATE channel_secret SET secrets = %s WHERE channel_id = 'shopify-eu'",
            (Jsonb({"access_token": ACCESS_TOKEN, "webhook_secret": WEBHOOK_SECRET}),),
        )

    gw = start()

    assert WEBHOOK_SECRET not in raw_text(database)
    assert post_order(gw, WEBHOOK_SECRET, "evt-1").status_code == 200


def test_a_rotation_leaves_every_row_readable_with_the_new_key_alone(
    start: Start, database: str
) -> None:
    first = start()
    connect_shops(first, webhook_secret="shpss_the_old_one")
    connect_shops(first)  # a previous webhook secret, to be rotated too
    first.close()
    rotating = start(f"{NEW_KEY},{SECRETS_KEY}")

    result = rotate(rotating, "--batch", "2")
    rotating.close()

    assert result.exit_code == 0, result.output
    assert "Re-encrypted the secrets of 3 channels" in result.output
    new, old = Fernet(NEW_KEY), Fernet(SECRETS_KEY)
    assert raw_rows(database)["shopify-eu"]["previous"]
    for token in tokens(database):
        new.decrypt(token)
        with pytest.raises(InvalidToken):
            old.decrypt(token)
    gw = start(NEW_KEY)
    assert post_order(gw, WEBHOOK_SECRET, "evt-1").status_code == 200
    assert post_order(gw, "shpss_the_old_one", "evt-old").status_code == 200


def test_a_gateway_whose_keys_open_no_stored_secret_refuses_to_start_naming_the_channels(
    start: Start, database: str
) -> None:
    connect_shops(start())
    before = raw_rows(database)

    with pytest.raises(UnreadableSecretsError) as refused:
        start(NEW_KEY)

    assert refused.value.channel_ids == ["shopee-sg", "shopify-eu", "woo-de"]
    assert "shopee-sg, shopify-eu, woo-de" in str(refused.value)
    assert "OMS_GATEWAY_SECRETS_KEYS" in str(refused.value)
    assert raw_rows(database) == before  # nothing sealed with the wrong key


def test_without_a_key_the_gateway_refuses_to_start_saying_how_to_make_one(start: Start) -> None:
    with pytest.raises(SecretKeysError, match=r"Fernet\.generate_key"):
        start("")


def test_an_instance_without_the_key_a_row_was_sealed_with_answers_503_naming_the_channel(
    start: Start,
) -> None:
    lagging = start()
    ahead = start(f"{NEW_KEY},{SECRETS_KEY}")  # the new key put first on one instance only

    connect_shops(ahead)

    answer = lagging.http.get("/v1/channels/shopify-eu")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["channels"] == ["shopify-eu"]
    assert "OMS_GATEWAY_SECRETS_KEYS" in answer.json()["detail"]
    assert post_order(lagging, WEBHOOK_SECRET, "evt-1").status_code == 503
    assert post_order(ahead, WEBHOOK_SECRET, "evt-2").status_code == 200
    refused = rotate(lagging)
    assert refused.exit_code == 1
    assert "The gateway refused (503)" in refused.output
    assert "the secrets of channel shopee-sg open with none" in refused.output  # first by id
