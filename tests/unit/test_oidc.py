"""The pure parts of OIDC tokens: where a role claim is, which OMS role a caller gets, what looks
like a JWT, and what a verifier refuses before it would ask the provider anything."""

from __future__ import annotations

import pytest

from shared.runtime.access import Role
from shared.runtime.oidc import (
    InvalidToken,
    OidcVerifier,
    claim_at,
    looks_like_jwt,
    oidc_verifier,
    role_names,
    strongest_role,
)
from shared.runtime.settings import ServiceSettings

# Nothing listens here: a test that reached the network would fail with "could not be fetched".
NOWHERE = "http://127.0.0.1:9"


def test_a_top_level_claim_is_found_by_its_name():
    assert claim_at({"roles": ["ops"]}, "roles") == ["ops"]


def test_keycloak_realm_and_client_roles_are_found_by_dotted_paths():
    claims = {
        "realm_access": {"roles": ["offline_access", "viewer"]},
        "resource_access": {"oms": {"roles": ["warehouse"]}},
    }
    assert claim_at(claims, "realm_access.roles") == ["offline_access", "viewer"]
    assert claim_at(claims, "resource_access.oms.roles") == ["warehouse"]


def test_a_namespaced_claim_with_dots_slashes_and_colons_in_its_name_is_found_whole():
    claims = {"https://oms.example.com/roles": ["admin"], "urn:oms:roles": "ops"}
    assert claim_at(claims, "https://oms.example.com/roles") == ["admin"]
    assert claim_at(claims, "urn:oms:roles") == "ops"


def test_a_path_may_go_into_a_claim_whose_name_has_dots():
    claims = {"https://oms.example.com/claims": {"roles": ["viewer"]}}
    assert claim_at(claims, "https://oms.example.com/claims.roles") == ["viewer"]


def test_a_missing_claim_or_a_path_through_a_non_object_is_none():
    claims = {"realm_access": ["not", "an", "object"], "roles": "ops"}
    assert claim_at(claims, "realm_access.roles") is None
    assert claim_at(claims, "roles.admin") is None
    assert claim_at(claims, "groups") is None


def test_a_role_claim_may_be_one_string_or_a_list_of_strings():
    assert role_names("admin") == ["admin"]
    assert role_names(["ops", 7, None, "viewer"]) == ["ops", "viewer"]
    assert role_names({"ops": True}) == []
    assert role_names(7) == []


@pytest.mark.parametrize(
    ("names", "role"),
    [
        (["viewer", "admin", "ops"], Role.ADMIN),
        (["warehouse", "ops"], Role.OPS),
        (["ops", "warehouse"], Role.OPS),
        (["viewer", "warehouse"], Role.WAREHOUSE),
        (["viewer", "offline_access"], Role.VIEWER),
    ],
)
def test_of_several_roles_the_caller_gets_the_most_privileged(names, role):
    assert strongest_role(names) is role


def test_names_that_are_no_oms_role_give_none_and_case_counts():
    assert strongest_role(["offline_access", "uma_authorization"]) is None
    assert strongest_role(["Admin", "OPS"]) is None
    assert strongest_role([]) is None


@pytest.mark.parametrize(
    "token",
    [
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",  # alg "none": routed to be refused with a reason
    ],
)
def test_a_compact_jws_looks_like_a_jwt(token):
    assert looks_like_jwt(token)


@pytest.mark.parametrize(
    "token",
    [
        "oms_" + "0" * 32 + "_" + "A" * 43,  # an OMS access token
        "a.b",
        "a.b.c.d.e",  # a JWE: not for us
        "a..c",
        "eyJh bGci.eyJz.c2ln",
        "eyJh+bGci.eyJz.c2ln/",  # base64, not base64url
        "",
    ],
)
def test_other_bearer_strings_do_not_look_like_a_jwt(token):
    assert not looks_like_jwt(token)


def test_making_a_verifier_fetches_nothing():
    verifier = OidcVerifier(NOWHERE, "oms-api", jwks_url=f"{NOWHERE}/keys")
    assert verifier.issuer == NOWHERE


@pytest.mark.parametrize(
    "algorithms", [("RS256", "none"), ("HS256",), ("ES256", "HS512"), ()], ids=str
)
def test_none_hmac_and_empty_algorithm_lists_are_refused_at_start(algorithms):
    with pytest.raises(ValueError, match="public-key"):
        OidcVerifier(NOWHERE, "oms-api", algorithms=algorithms)


def test_an_issuer_needs_an_audience_and_urls_must_be_http():
    with pytest.raises(ValueError, match="audience"):
        OidcVerifier(NOWHERE, "")
    with pytest.raises(ValueError, match="issuer"):
        OidcVerifier("id.example.com", "oms-api")
    with pytest.raises(ValueError, match="JWKS"):
        OidcVerifier(NOWHERE, "oms-api", jwks_url="file:///etc/passwd")


def test_settings_without_an_issuer_make_no_verifier():
    assert oidc_verifier(ServiceSettings()) is None


def test_settings_with_an_issuer_make_a_verifier_as_configured():
    settings = ServiceSettings(
        oidc_issuer=NOWHERE,
        oidc_audience="oms-api",
        oidc_role_claim="realm_access.roles",
        oidc_name_claim="preferred_username",
        oidc_leeway_seconds=5,
    )
    verifier = oidc_verifier(settings)
    assert verifier is not None
    assert (verifier.role_claim, verifier.name_claim) == (
        "realm_access.roles",
        "preferred_username",
    )
    assert verifier.leeway_seconds == 5


def test_settings_with_an_issuer_but_no_audience_fail_at_start():
    with pytest.raises(ValueError, match="audience"):
        oidc_verifier(ServiceSettings(oidc_issuer=NOWHERE))


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not-a-jwt", "not a well-formed JWT"),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "algorithm 'none' is not allowed"),
        ("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ4In0.c2ln", "'HS256' is not allowed"),
        ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "names no signing key"),
    ],
)
def test_tokens_refused_from_their_header_alone_need_no_keys(token, reason):
    verifier = OidcVerifier(NOWHERE, "oms-api")
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(token)
