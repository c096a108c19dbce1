"""OIDC tokens verified against a provider over real HTTP: discovery, its JWKS, key rotation,
the provider down, and every token that must not pass."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from shared.runtime.access import Principal, Role
from shared.runtime.embedded import free_port
from shared.runtime.oidc import KEYS_UNAVAILABLE, InvalidToken, OidcVerifier
from tests.fakes.oidc import AUDIENCE, FakeOidcProvider, SigningKey, ec_key, rsa_key, sign

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOidcProvider]:
    """One provider for the tests that change nothing at it."""
    fake = FakeOidcProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def own_provider() -> Iterator[FakeOidcProvider]:
    """A provider of the test's own, to rotate, break or count requests at."""
    fake = FakeOidcProvider().start()
    yield fake
    fake.stop()


def verifier_of(provider: FakeOidcProvider, **options: Any) -> OidcVerifier:
    """A fresh verifier of this provider (nothing fetched yet)."""
    return OidcVerifier(provider.url, AUDIENCE, **options)


def refused(verifier: OidcVerifier, token: str) -> str:
    """The reason the verifier gives for refusing the token."""
    with pytest.raises(InvalidToken) as refusal:
        verifier.verify(token)
    return refusal.value.reason


def b64url(data: bytes) -> str:
    """Base64url without padding, as in a JWT."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], claims: dict[str, Any], hmac_secret: bytes | None) -> str:
    """A JWT built by hand: signed with HMAC-SHA256 under `hmac_secret`, or unsigned."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    if hmac_secret is None:
        return signing_input + "."
    mac = hmac.new(hmac_secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def public_pem(key: SigningKey) -> bytes:
    """The key's public half as PEM: what an attacker has."""
    return key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_a_good_rs256_token_names_the_caller_and_their_role(provider):
    principal = verifier_of(provider).verify(provider.token())
    assert principal == Principal(name="ada@example.com", role=Role.OPS, via="oidc")


def test_a_good_es256_token_gives_the_most_privileged_of_its_roles(provider):
    token = provider.token(key=provider.ec, roles=["viewer", "admin", "warehouse"])
    assert verifier_of(provider).verify(token).role is Role.ADMIN


def test_a_ps256_token_passes_with_an_rsa_key_that_names_no_algorithm(own_provider):
    key = rsa_key(algorithm="PS256", publish_alg=False)
    own_provider.published.append(key)
    assert verifier_of(own_provider).verify(own_provider.token(key=key)).role is Role.OPS


def test_a_caller_without_the_name_claim_is_named_by_their_subject(provider):
    token = provider.token(email=None, sub="svc-robot")
    assert verifier_of(provider).verify(token).name == "svc-robot"


def test_keycloak_client_roles_and_preferred_username_are_read_where_configured(provider):
    token = provider.token(
        roles=None,
        realm_access={"roles": ["offline_access", "viewer"]},
        resource_access={"oms": {"roles": ["warehouse"]}},
        preferred_username="ada",
    )
    verifier = verifier_of(
        provider, role_claim="resource_access.oms.roles", name_claim="preferred_username"
    )
    assert verifier.verify(token) == Principal(name="ada", role=Role.WAREHOUSE, via="oidc")


def test_an_auth0_namespaced_role_claim_is_read(provider):
    token = provider.token(roles=None, **{"https://oms.example.com/roles": "admin"})
    verifier = verifier_of(provider, role_claim="https://oms.example.com/roles")
    assert verifier.verify(token).role is Role.ADMIN


def test_a_token_whose_claims_were_changed_after_signing_is_refused(provider):
    header, _, signature = provider.token(roles=["viewer"]).split(".")
    admin_claims = b64url(json.dumps(provider.claims(roles=["admin"])).encode())
    tampered = f"{header}.{admin_claims}.{signature}"
    assert "signature does not match" in refused(verifier_of(provider), tampered)


def test_a_token_signed_by_a_key_the_provider_does_not_publish_is_refused(provider):
    stranger = rsa_key()
    verifier = verifier_of(provider)
    posing = provider.sign(provider.claims(), key=stranger, kid=provider.rsa.kid)
    assert "signature does not match" in refused(verifier, posing)
    own_kid = provider.sign(provider.claims(), key=stranger)
    assert f"key {stranger.kid!r} is not among the provider's keys" in refused(verifier, own_kid)


def test_a_token_whose_algorithm_is_not_its_keys_is_refused(provider):
    # Signed with RS256 by a stranger, but naming the provider's EC key.
    token = provider.sign(provider.claims(), key=rsa_key(), kid=provider.ec.kid)
    assert "algorithm" in refused(verifier_of(provider), token)


def test_an_unsigned_token_is_refused_without_asking_the_provider(own_provider):
    header = {"alg": "none", "typ": "JWT", "kid": own_provider.rsa.kid}
    token = forged(header, own_provider.claims(roles=["admin"]), hmac_secret=None)
    assert "'none' is not allowed" in refused(verifier_of(own_provider), token)
    assert own_provider.requests == []


@pytest.mark.parametrize("key_name", ["rsa", "ec"])
def test_an_hs256_token_keyed_with_the_providers_public_key_is_refused(provider, key_name):
    key = getattr(provider, key_name)
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    for secret in (public_pem(key), json.dumps(key.jwk()).encode()):
        token = forged(header, provider.claims(roles=["admin"]), hmac_secret=secret)
        assert "'HS256' is not allowed" in refused(verifier_of(provider), token)


def test_an_expired_token_is_refused_but_leeway_forgives_a_little_skew(provider):
    now = int(time.time())
    verifier = verifier_of(provider, leeway_seconds=30)
    assert verifier.verify(provider.token(exp=now - 10)).role is Role.OPS
    assert refused(verifier, provider.token(exp=now - 60)) == "the token has expired"


def test_a_token_not_yet_valid_is_refused_but_leeway_forgives_a_little_skew(provider):
    now = int(time.time())
    verifier = verifier_of(provider, leeway_seconds=30)
    assert verifier.verify(provider.token(nbf=now + 10)).role is Role.OPS
    assert refused(verifier, provider.token(nbf=now + 120)) == "the token is not yet valid"
    assert refused(verifier, provider.token(iat=now + 120)) == "the token is not yet valid"


def test_a_token_without_an_expiry_is_refused(provider):
    assert (
        refused(verifier_of(provider), provider.token(exp=None)) == "the token has no 'exp' claim"
    )


def test_a_token_of_another_issuer_is_refused(provider):
    token = provider.token(iss="https://evil.example.com")
    assert refused(verifier_of(provider), token) == "the token is from another issuer"


@pytest.mark.parametrize("audience", ["another-app", ["account", "another-app"]])
def test_a_token_for_another_audience_is_refused(provider, audience):
    token = provider.token(aud=audience)
    assert refused(verifier_of(provider), token) == "the token is meant for another audience"


def test_a_token_for_several_audiences_among_them_the_oms_passes(provider):
    token = provider.token(aud=["account", AUDIENCE])
    assert verifier_of(provider).verify(token).role is Role.OPS


def test_a_token_without_the_role_claim_is_refused(provider):
    assert refused(verifier_of(provider), provider.token(roles=None)) == (
        "the token has no 'roles' claim"
    )


@pytest.mark.parametrize("roles", [["offline_access", "uma_authorization"], [], "superuser"])
def test_a_token_whose_roles_are_none_of_the_oms_is_refused(provider, roles):
    reason = refused(verifier_of(provider), provider.token(roles=roles))
    assert reason.startswith("the token's 'roles' claim names no OMS role")


def test_a_rotated_key_is_fetched_when_a_token_first_names_it(own_provider):
    verifier = verifier_of(own_provider, unknown_key_cooldown_seconds=0)
    assert verifier.verify(own_provider.token()).role is Role.OPS
    new_key = own_provider.rotate(keep_old=True)
    assert verifier.verify(own_provider.token(key=new_key)).role is Role.OPS
    assert own_provider.jwks_fetches() == 2


def test_a_key_the_provider_withdrew_is_refused_once_the_keys_are_fetched_again(own_provider):
    verifier = verifier_of(own_provider, unknown_key_cooldown_seconds=0)
    old_token = own_provider.token()
    assert verifier.verify(old_token).role is Role.OPS
    verifier.verify(own_provider.token(key=own_provider.rotate(keep_old=False)))
    assert "is not among the provider's keys" in refused(verifier, old_token)


def test_made_up_key_ids_do_not_make_the_verifier_hammer_the_provider(own_provider):
    verifier = verifier_of(own_provider, unknown_key_cooldown_seconds=60)
    verifier.verify(own_provider.token())
    for n in range(20):
        token = own_provider.sign(own_provider.claims(), kid=f"made-up-{n}")
        assert "is not among the provider's keys" in refused(verifier, token)
    assert own_provider.jwks_fetches() == 1


def test_a_provider_down_at_the_first_token_refuses_it_and_works_once_back(own_provider):
    verifier = verifier_of(own_provider, retry_seconds=0)
    own_provider.down_for(60)
    assert refused(verifier, own_provider.token()) == KEYS_UNAVAILABLE
    own_provider.down_for(0)
    assert verifier.verify(own_provider.token()).role is Role.OPS


def test_after_a_failed_fetch_tokens_are_refused_at_once_until_the_retry_is_due(own_provider):
    verifier = verifier_of(own_provider, retry_seconds=60)
    own_provider.down_for(60)
    assert refused(verifier, own_provider.token()) == KEYS_UNAVAILABLE
    asked = len(own_provider.requests)
    own_provider.down_for(0)
    assert refused(verifier, own_provider.token()) == KEYS_UNAVAILABLE
    assert len(own_provider.requests) == asked


def test_a_provider_nobody_listens_at_refuses_tokens_without_crashing():
    verifier = OidcVerifier(f"http://127.0.0.1:{free_port()}", AUDIENCE)
    token = sign({"sub": "x"}, ec_key())
    assert refused(verifier, token) == KEYS_UNAVAILABLE


def test_keys_already_fetched_still_verify_while_the_provider_is_down(own_provider):
    # Keys due again at every token: each one tries the provider, which is down.
    verifier = verifier_of(own_provider, keys_lifespan_seconds=0, retry_seconds=0)
    assert verifier.verify(own_provider.token()).role is Role.OPS
    own_provider.down_for(60)
    assert verifier.verify(own_provider.token()).role is Role.OPS
    assert own_provider.requests[-1].status == 503, "the provider was not asked again"


def test_a_new_key_named_while_the_provider_is_down_is_refused_as_unfetchable(own_provider):
    verifier = verifier_of(own_provider, unknown_key_cooldown_seconds=0, retry_seconds=0)
    assert verifier.verify(own_provider.token()).role is Role.OPS
    own_provider.down_for(60)
    new_key = own_provider.rotate(keep_old=True)
    assert refused(verifier, own_provider.token(key=new_key)) == KEYS_UNAVAILABLE
    own_provider.down_for(0)
    assert verifier.verify(own_provider.token(key=new_key)).role is Role.OPS


def test_a_discovery_document_naming_another_issuer_is_not_trusted(own_provider):
    own_provider.issuer_in_discovery = "https://evil.example.com"
    assert refused(verifier_of(own_provider), own_provider.token()) == KEYS_UNAVAILABLE
    assert own_provider.jwks_fetches() == 0


def test_a_configured_jwks_url_is_used_without_discovery(own_provider):
    verifier = verifier_of(own_provider, jwks_url=own_provider.jwks_url)
    assert verifier.verify(own_provider.token()).role is Role.OPS
    assert [r.path for r in own_provider.requests] == ["/keys"]


def test_threads_verifying_at_once_share_one_discovery_and_one_key_fetch(own_provider):
    verifier = verifier_of(own_provider)
    tokens = [own_provider.token(key=own_provider.ec if n % 2 else None) for n in range(8)]
    roles: list[Role] = []
    start = threading.Barrier(len(tokens))

    def verify(token: str) -> None:
        start.wait()
        roles.append(verifier.verify(token).role)

    threads = [threading.Thread(target=verify, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert roles == [Role.OPS] * len(tokens)
    assert [r.path for r in own_provider.requests] == ["/.well-known/openid-configuration", "/keys"]
